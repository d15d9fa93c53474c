package dev.pcwmesh.runtime;

import java.util.Arrays;

/** The reference behaviour of stories260K in llama.cpp and llama2.c, from ../shared/models/README.md. */
public final class Stories260K {
    private Stories260K() {}

    public static final String FILE = "stories260K.gguf";
    public static final String PROMPT_TEXT = "Once upon a time";
    /** The prompt with BOS. */
    public static final int[] PROMPT = {1, 403, 407, 261, 378};
    /** Greedy continuation of the prompt. */
    public static final int[] GREEDY_64 = Arrays.stream("""
            432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 337 410 408 419 292 411 322 265 282 295 433 426 385 328 432 358 394 261 370 432 352 266 268 388 426 338 391 266 267 337 335 312 432 398 312 286 267 414 270 333 415 426 13 438 310 439 419 357 336"""
            .trim().split(" ")).mapToInt(Integer::parseInt).toArray();
    public static final String GREEDY_64_TEXT = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said";
    /** Top five ids after the prompt, and their logits (F32 throughout). */
    public static final int[] TOP5 = {432, 383, 322, 353, 323};
    public static final float[] TOP5_LOGITS = {17.799f, 14.281f, 9.710f, 9.587f, 9.134f};
}
