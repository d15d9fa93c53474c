// llama-bench's two tests, run by llama.cpp itself: node-llama-cpp loads llama.cpp's prebuilt CPU
// libraries (it picks the build for this CPU: haswell, skylakex, zen4, ...), so the figures are
// llama.cpp's, on the machine where `pcw bench` runs, without a C toolchain or network access
// beyond npm.
//
//   npm install && node bench.mjs MODEL.gguf pp512|tg32 [threads] [repetitions]
//
// ppN: N random tokens decoded in one batch into an empty context (llama-bench's prompt test),
// tokens/s from the wall time of that one call. tgN: N single-token decodes after BOS (its
// generation test); each call also crosses from JavaScript to the native thread and back, which
// costs about 2 ms here, so the figure that counts is llama.cpp's own "eval time" per token that
// it prints at the end (llama_perf_context_print), over the warm-up and every repetition.
// flash attention is off, as llama-bench has it by default.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [file, test, threadsArg, repsArg] = process.argv.slice(2);
if (!file || !/^(pp|tg)\d+$/.test(test ?? "")) {
    console.error("usage: node bench.mjs MODEL.gguf pp512|tg32 [threads] [repetitions]");
    process.exit(2);
}
const threads = Number(threadsArg ?? 2), reps = Number(repsArg ?? 3), n = Number(test.slice(2));
// info: the level at which llama.cpp prints its own timings (llama_perf_context_print)
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.info, maxThreads: threads,
    logger: (level, message) => { if (level !== LlamaLogLevel.info || message.includes("llama_perf_context_print")) console.error(message); }});
const model = await llama.loadModel({modelPath: file, gpuLayers: 0});
const context = await model.createContext({contextSize: Math.max(1024, n + 64), batchSize: Math.max(512, n),
    threads: {ideal: threads, min: threads}, flashAttention: false, performanceTracking: true});
const sequence = context.getSequence();
const randomTokens = count => Array.from({length: count}, () => 10 + Math.floor(Math.random() * 20000));

async function run() {
    await sequence.clearHistory();
    const start = process.hrtime.bigint();
    if (test.startsWith("pp")) {
        await sequence.evaluateWithoutGeneratingNewTokens(randomTokens(n));
    } else {
        let token = model.tokens.bos ?? 1;
        for (let i = 0; i < n; i++) {
            await sequence.evaluateWithoutGeneratingNewTokens([token]);
            token = randomTokens(1)[0];
        }
    }
    return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

await run(); // warm-up
const rates = [];
for (let r = 0; r < reps; r++) rates.push(await run());
rates.sort((a, b) => a - b);
console.log(`${file.split("/").pop()} threads ${threads} ${test}: median ${rates[Math.floor(rates.length / 2)].toFixed(1)}`
    + ` min ${rates[0].toFixed(1)} max ${rates[rates.length - 1].toFixed(1)} tokens/s (wall time of each call)`);
await context.printTimings();
await context.dispose();
await model.dispose();
