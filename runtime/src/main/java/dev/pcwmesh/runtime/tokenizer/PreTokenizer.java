package dev.pcwmesh.runtime.tokenizer;

import java.util.List;

/**
 * The pre-tokenizer named by {@code tokenizer.ggml.pre}: the regexes that cut text into words
 * before BPE merges, and the per-model switches that go with them, copied from llama.cpp's
 * {@code llama_vocab::impl::load} (name to type) and {@code llm_tokenizer_bpe} (type to regexes).
 *
 * <p>An unknown name is not an error here (llama.cpp refuses the model): it falls back to the
 * {@code default} pre-tokenizer, as llama.cpp does for a missing name, so that a model converted
 * with a newer name still loads, possibly with slightly different splits.
 *
 * @param regexes       applied in order, each splitting the pieces of the previous one
 * @param ignoreMerges  a word that is itself a token is taken whole, before any merge (Llama 3)
 * @param cleanSpaces   decoding removes spaces before punctuation ({@code clean_spaces})
 * @param addBos        the default for adding BOS before {@code tokenizer.ggml.add_bos_token}
 */
record PreTokenizer(String name, List<String> regexes, boolean ignoreMerges, boolean cleanSpaces, boolean addBos) {

    private static final String GPT2 = RegexSplitter.GPT2;
    private static final String LLAMA3 = RegexSplitter.LLAMA3;
    private static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final List<String> DEFAULT = List.of(
            "[\\p{P}\\$\\+<=>\\^~\\|]+",
            GPT2,
            "\\p{N}+",
            "[0-9][0-9][0-9]");
    private static final List<String> STARCODER = List.of("\\p{N}", GPT2);
    private static final String GPT4O = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    static PreTokenizer named(String name) {
        String n = name == null ? "default" : name;
        return switch (n) {
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano" ->
                    new PreTokenizer(n, List.of(LLAMA3), true, true, true);
            case "dbrx", "smaug-bpe" -> new PreTokenizer(n, List.of(LLAMA3), false, true, false);
            // The letter class is written with escapes: several of its range ends (U+1F7D, U+1FBE, U+212A, ...) are
            // characters that Unicode normalisation would silently replace, turning the ranges upside down.
            case "deepseek-llm" -> new PreTokenizer(n, List.of(
                    "[\r\n]",
                    "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
                    "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
                    "\\s+$",
                    "[一-龥ࠀ-一가-퟿]+",
                    "\\p{N}+"), false, false, false);
            case "deepseek-coder" -> new PreTokenizer(n, List.of(
                    "[\r\n]",
                    "\\s?\\p{L}+",
                    "\\s?\\p{P}+",
                    "[一-龥ࠀ-一가-퟿]+",
                    "\\p{N}"), false, false, false);
            case "falcon" -> new PreTokenizer(n, List.of(
                    "[\\p{P}\\$\\+<=>\\^~\\|`]+",
                    GPT2,
                    "[0-9][0-9][0-9]"), false, true, false);
            case "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2" -> new PreTokenizer(n, STARCODER, false, true, false);
            case "command-r", "smollm" -> new PreTokenizer(n, STARCODER, false, false, false);
            case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert",
                 "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt", "olmo", "jais" ->
                    new PreTokenizer(n, List.of(GPT2), false, true, false);
            case "trillion", "granite-docling" -> new PreTokenizer(n, List.of(GPT2), false, false, false);
            case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open" -> new PreTokenizer(n, List.of(QWEN2), false, false, false);
            case "stablelm2", "megrez" -> new PreTokenizer(n, List.of(QWEN2), false, true, false);
            case "qwen35" -> new PreTokenizer(n, List.of(
                    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
                    false, false, false);
            case "poro-chat" -> new PreTokenizer(n, List.of(" ?[^(\\s|.,!?…。，、।۔،)]+"), false, false, false);
            case "bloom", "gpt3-finnish" -> new PreTokenizer(n, List.of(" ?[^(\\s|.,!?…。，、।۔،)]+"), false, true, false);
            case "viking" -> new PreTokenizer(n, List.of(" ?[^(\\s|.,!?…。，、।۔،)]+", "\\p{N}"), false, false, false);
            case "chatglm-bpe", "glm4" -> new PreTokenizer(n, List.of(
                    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
                    false, true, false);
            case "tekken" -> new PreTokenizer(n, List.of(
                    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
                    true, false, true);
            case "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2" -> new PreTokenizer(n, List.of(GPT4O), false, false, false);
            case "seed-coder" -> new PreTokenizer(n, List.of(
                    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
                    false, false, false);
            case "bailingmoe", "bailingmoe2", "llada-moe" -> new PreTokenizer(n, List.of(
                    "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"),
                    false, false, false);
            case "grok-2" -> new PreTokenizer(n, List.of(QWEN2), false, false, false);
            default -> new PreTokenizer("default", DEFAULT, false, true, false);
        };
    }
}
