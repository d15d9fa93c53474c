// Runs our CUDA kernels on the CPU, for tests on machines without a GPU (CI has none).
//
// Included before kernels.cu with PCW_CPU_EMULATION defined, it supplies what the kernels use of
// CUDA: the thread and block indices, __syncthreads, the warp shuffles, shared memory, the half
// conversions and the tensor-core product mma_16816. A launch runs the grid's blocks one after
// another; the threads of a block are coroutines on one OS thread, each running until
// it reaches a barrier. __syncthreads waits for every thread of the block, a shuffle or an mma
// for every thread of the warp (threads that have returned count as arrived). So the kernels'
// code, with its indexing, barriers and warp collectives, runs as written. What differs from a
// GPU: speed; threads between two barriers run one after another (in ascending order, then
// descending between the next two), so a race that a missing barrier leaves shows only when one
// of those orders exposes it; and the hardware's own rounding of expf, rsqrtf and the tensor
// cores' sums. What passes here is not proven on a GPU: it is what is worth a GPU run's minutes.
//
// Fragment layout of mma.sync.m16n8k16.row.col (PTX ISA, "Matrix Fragments for mma.m16n8k16"):
// lane = 4·group + tid. A (16×16, row-major) register r holds rows group + 8·(r & 1) and
// columns 2·tid + 8·(r >> 1) + {0, 1}; B (16×8) register r holds rows 2·tid + 8·r + {0, 1} of
// column group; C and D element e is row group + 8·(e >> 1), column 2·tid + (e & 1). The flash
// kernel that passed on an H200 passes here with this layout, which is the check of it.
#pragma once
#ifndef PCW_CPU_EMULATION
#error "define PCW_CPU_EMULATION before including cuda_emulator.h"
#endif

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <ucontext.h>
#include <vector>

// Under AddressSanitizer (KernelEmulationTest builds with it, so that a kernel reading past its
// buffers fails here as it would fault on a GPU) every switch of stacks is announced to it.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define PCW_ASAN 1
#endif

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static
#define __CUDA_ARCH__ 900

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    dim3() = default;
    dim3(unsigned x_, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace emu {

constexpr int MAX_THREADS = 1024;
constexpr int STACK_BYTES = 64 * 1024;

enum State { READY, AT_BLOCK_BARRIER, AT_WARP_BARRIER, DONE };

// A thread starts on a stack of its own through makecontext; after that, switches between it and
// the scheduler are GCC's __builtin_setjmp/__builtin_longjmp, which unlike swapcontext make no
// system call (and unlike longjmp are not intercepted by AddressSanitizer, which would).
using JumpBuffer = void* [5];

struct Thread {
    ucontext_t start;
    JumpBuffer resume;
    bool started;
    State state;
    std::vector<char> stack;
};

inline dim3 grid, block, block_index, thread_index;
inline Thread threads[MAX_THREADS];
inline int current = -1;
inline JumpBuffer scheduler;

// __builtin_longjmp may not be called from the function that called __builtin_setjmp. Called
// through a pointer the compiler cannot see through, so that AddressSanitizer's instrumentation
// does not take it for a call that never returns, before which it unpoisons the stack with a
// system call. (Some such calls remain: the checks take about 20 s under AddressSanitizer, 2 s
// without.)
[[gnu::noinline]] inline void jump_to(void** to) { __builtin_longjmp(to, 1); }
inline void (*volatile jump)(void**) = jump_to;
inline std::function<void()> body;
// What a warp's lanes hand each other: up to 8 words per lane (a shuffled value; an mma's A and B operands, 6).
inline uint32_t exchange[MAX_THREADS / 32][32][8];

[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "emulator: %s (block %u,%u thread %d)\n", what, block_index.x, block_index.y, current);
    std::exit(2);
}

// The scheduler's own stack, for AddressSanitizer's fiber calls.
inline const void* scheduler_stack;
inline size_t scheduler_stack_size;

// Back to the scheduler from thread `current` (for good when it is done).
inline void to_scheduler(bool done) {
#ifdef PCW_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(done ? nullptr : &fake, scheduler_stack, scheduler_stack_size);
#endif
    if (done || !__builtin_setjmp(threads[current].resume)) jump(scheduler);
#ifdef PCW_ASAN
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
}

inline void wait(State at) {
    threads[current].state = at;
    to_scheduler(false);
}

inline void run_thread() {
#ifdef PCW_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &scheduler_stack, &scheduler_stack_size);
#endif
    body();
    threads[current].state = DONE;
    to_scheduler(true);
}

// Releases the threads waiting at a barrier whose every thread has arrived; false when none could go.
inline bool release(int count) {
    bool any = false;
    for (int w = 0; w * 32 < count; w++) {
        int end = std::min(count, (w + 1) * 32);
        bool all = true, some = false;
        for (int i = w * 32; i < end; i++) {
            all &= threads[i].state == AT_WARP_BARRIER || threads[i].state == DONE;
            some |= threads[i].state == AT_WARP_BARRIER;
        }
        if (all && some) {
            for (int i = w * 32; i < end; i++) if (threads[i].state == AT_WARP_BARRIER) threads[i].state = READY;
            any = true;
        }
    }
    bool all = true, some = false;
    for (int i = 0; i < count; i++) {
        all &= threads[i].state == AT_BLOCK_BARRIER || threads[i].state == DONE;
        some |= threads[i].state == AT_BLOCK_BARRIER;
    }
    if (all && some) {
        for (int i = 0; i < count; i++) if (threads[i].state == AT_BLOCK_BARRIER) threads[i].state = READY;
        any = true;
    }
    return any;
}

inline void run_block(int count) {
    for (int i = 0; i < count; i++) {
        Thread& t = threads[i];
        if (t.stack.empty()) t.stack.resize(STACK_BYTES);
        getcontext(&t.start);
        t.start.uc_stack.ss_sp = t.stack.data();
        t.start.uc_stack.ss_size = t.stack.size();
        t.start.uc_link = nullptr;
        makecontext(&t.start, run_thread, 0);
        t.started = false;
        t.state = READY;
#ifdef PCW_ASAN
        // The last block's threads left frames on these stacks that never returned.
        __asan_unpoison_memory_region(t.stack.data(), t.stack.size());
#endif
    }
    // Ready threads run in ascending order, then descending at the next round: a read that a
    // missing barrier leaves unordered against a write comes before it in one of the two.
    for (int round = 0;; round++) {
        bool ran = false, done = true;
        for (int k = 0; k < count; k++) {
            int i = round % 2 ? count - 1 - k : k;
            if (threads[i].state != READY) continue;
            current = i;
            thread_index = dim3(i % block.x, (i / block.x) % block.y, i / (block.x * block.y));
#ifdef PCW_ASAN
            void* fake = nullptr;
            __sanitizer_start_switch_fiber(&fake, threads[i].stack.data(), threads[i].stack.size());
#endif
            if (!__builtin_setjmp(scheduler)) {
                if (threads[i].started) jump(threads[i].resume);
                threads[i].started = true;
                setcontext(&threads[i].start);
            }
#ifdef PCW_ASAN
            __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
            ran = true;
        }
        current = -1;
        for (int i = 0; i < count; i++) done &= threads[i].state == DONE;
        if (done) return;
        if (!release(count) && !ran) fail("deadlock: threads wait at barriers that not all of their block or warp reach");
    }
}

// Runs kernel(args...) over the grid, block after block.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 g, dim3 b, Args... args) {
    int count = (int) (b.x * b.y * b.z);
    if (count > MAX_THREADS) fail("more than 1024 threads in a block");
    grid = g;
    block = b;
    body = [=] { kernel(args...); };
    for (unsigned z = 0; z < g.z; z++)
        for (unsigned y = 0; y < g.y; y++)
            for (unsigned x = 0; x < g.x; x++) {
                block_index = dim3(x, y, z);
                run_block(count);
            }
}

inline void check_aligned(const void* p, int bytes) {
    if ((uintptr_t) p % bytes != 0) fail("a vector load or store at an address a GPU would fault on (not a multiple of 16)");
}

inline int lane() { return current % 32; }
inline uint32_t* slots(int l) { return exchange[current / 32][l]; }

template <class T>
T shuffle(unsigned mask, T v, int source_lane) {
    static_assert(sizeof(T) <= 8, "shuffle of a value over 8 bytes");
    if (mask != 0xffffffffu) fail("shuffle with a partial mask");
    std::memcpy(slots(lane()), &v, sizeof(T));
    wait(AT_WARP_BARRIER);
    T r;
    std::memcpy(&r, slots(source_lane & 31), sizeof(T));
    wait(AT_WARP_BARRIER);
    return r;
}

}  // namespace emu

// A launch's dynamic shared memory (extern __shared__ in kernels.cu), as much as any launch takes.
inline float dynamic_shared[64 * 1024];

#define threadIdx (emu::thread_index)
#define blockIdx (emu::block_index)
#define blockDim (emu::block)
#define gridDim (emu::grid)

inline void __syncthreads() { emu::wait(emu::AT_BLOCK_BARRIER); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::wait(emu::AT_WARP_BARRIER); }
template <class T> T __shfl_xor_sync(unsigned mask, T v, int m) { return emu::shuffle(mask, v, emu::lane() ^ m); }
template <class T> T __shfl_sync(unsigned mask, T v, int src) { return emu::shuffle(mask, v, src); }
template <class T> T __shfl_down_sync(unsigned mask, T v, unsigned d) {
    int src = emu::lane() + (int) d;
    return emu::shuffle(mask, v, src < 32 ? src : emu::lane());
}
[[noreturn]] inline void __trap() { emu::fail("__trap"); }

inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
using std::min;
using std::max;

// The half conversions of PTX's cvt.f32.f16 and cvt.rn.f16.f32 (round to nearest even).
inline float f16_to_f32(unsigned short h) { _Float16 v; std::memcpy(&v, &h, 2); return (float) v; }
inline unsigned short f32_to_f16(float f) { _Float16 v = (_Float16) f; unsigned short h; std::memcpy(&h, &v, 2); return h; }

// mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32, d += a·b, with the layout above.
inline void mma_16816(float* d, const unsigned* a, unsigned b0, unsigned b1) {
    uint32_t* mine = emu::slots(emu::lane());
    for (int r = 0; r < 4; r++) mine[r] = a[r];
    mine[4] = b0;
    mine[5] = b1;
    emu::wait(emu::AT_WARP_BARRIER);
    auto half_at = [](uint32_t word, int k) { return f16_to_f32((unsigned short) (k & 1 ? word >> 16 : word & 0xffff)); };
    int group = emu::lane() / 4, tid = emu::lane() % 4;
    float out[4];
    for (int e = 0; e < 4; e++) {
        int row = group + 8 * (e >> 1), col = 2 * tid + (e & 1);
        float sum = 0.f;
        for (int k = 0; k < 16; k++) {
            float av = half_at(emu::slots((row % 8) * 4 + (k % 8) / 2)[(row >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0)], k);
            float bv = half_at(emu::slots(col * 4 + (k % 8) / 2)[4 + (k >= 8 ? 1 : 0)], k);
            sum += av * bv;
        }
        out[e] = sum;
    }
    emu::wait(emu::AT_WARP_BARRIER);
    for (int e = 0; e < 4; e++) d[e] += out[e];
}
