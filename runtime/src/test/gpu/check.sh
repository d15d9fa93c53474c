#!/usr/bin/env bash
# The GPU check of the CUDA backend, run from the repository root on a machine with an NVIDIA GPU
# and its driver, and nothing else: no Java, no build. It uses what pack.sh put in .gpu/.
#   1. the CUDA tests (dev.pcwmesh.runtime.cuda): CUDA against CPU logits on stories260K and on
#      random models of each architecture and tensor type (relative errors printed), the greedy
#      reference of ../shared/models/README.md, parallel windows with APE, the CPU fallback;
#   2. speed (GpuCheck): pcw bench's rows for the SmolLM2-135M and Qwen2.5-0.5B shapes in F16 and
#      Q8_0, and the prefill and decode ratios against the GPU's limits.
# Logs go to $OUT when it is set (the device tool), else to .gpu/out.
#   check.sh [tests|speed]: one half only (each fits a device call of 600 s on its own; both
#   together have taken about 5 minutes on an H200, more since the decode-kernel tests came).
set -uo pipefail
part=${1:-all}
D=.gpu
LOG=${OUT:-$D/out}
mkdir -p "$LOG"
[ -x "$D/jre/bin/java" ] || tar -C "$D" -xJf "$D/jre.tar.xz"
JAVA=("$D/jre/bin/java" -Xmx48g --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
CP=$(ls "$D"/lib/*.jar | tr '\n' ':')

# The tests read reference models from ../shared/models beside the repository root.
mkdir -p ../shared/models && cp -n "$D"/models/*.gguf ../shared/models/

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv 2>&1 | tee "$LOG/gpu.txt"
ls -d /usr/local/cuda* 2>/dev/null
python3 -c "import nvidia, os; [print(p, sorted(os.listdir(p))) for p in nvidia.__path__]" 2>/dev/null
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do ls "$d" 2>/dev/null | grep -E '^lib(cublas|nvrtc)\.so' | sed "s|^|$d/|"; done

tests=0 speed=0
if [ "$part" != speed ]; then
    echo "== CUDA tests"
    timeout ${PCW_TESTS_TIMEOUT:-300} "${JAVA[@]}" -jar "$D"/junit/junit-platform-console-standalone-*.jar execute --class-path "$CP" \
        --select-package dev.pcwmesh.runtime.cuda --details tree --disable-banner --disable-ansi-colors --fail-if-no-tests 2>&1 | tee "$LOG/tests.txt"
    tests=${PIPESTATUS[0]}
fi

if [ "$part" != tests ]; then
    echo "== speed"
    timeout ${PCW_SPEED_TIMEOUT:-240} "${JAVA[@]}" -cp "$CP" dev.pcwmesh.runtime.cuda.GpuCheck /tmp/pcw-gpu-models \
        ${PCW_DENSE_F16_TFLOPS:-989} ${PCW_BANDWIDTH_GBS:-4800} 3 2>&1 | tee "$LOG/speed.txt"
    speed=${PIPESTATUS[0]}
fi
echo "tests exit $tests, speed exit $speed"
[ "$tests" = 0 ] && [ "$speed" = 0 ]
