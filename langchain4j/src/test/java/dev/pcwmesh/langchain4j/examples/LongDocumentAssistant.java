package dev.pcwmesh.langchain4j.examples;

import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.document.loader.FileSystemDocumentLoader;
import dev.langchain4j.data.document.parser.TextDocumentParser;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.TokenStream;
import dev.pcwmesh.langchain4j.PcwMeshChatResponseMetadata;
import dev.pcwmesh.langchain4j.PcwMeshDocumentIngestor;
import dev.pcwmesh.langchain4j.PcwMeshStreamingChatModel;
import dev.pcwmesh.proto.v1.AnswerFigures;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * An AiServices assistant over a document longer than the model's window, streaming its answers:
 * the document goes into the mesh through {@link PcwMeshDocumentIngestor} (any LangChain4j
 * {@code DocumentParser} would do; this one reads text), and a {@link PcwMeshStreamingChatModel}
 * answers from it. Against a running mesh ({@code ./pcw mesh up}):
 *
 * <pre>
 * ./mvnw -q -pl langchain4j test-compile exec:java \
 *     -Dexec.args="models/demo/sample-document.txt 'Who is Nousloum Piaholm married to?'"
 * </pre>
 *
 * The addresses default to {@code pcw mesh up}'s ports; {@code -Dpcw.chunker=host:port} and
 * {@code -Dpcw.generator=host:port} point elsewhere.
 */
public final class LongDocumentAssistant {

    /** What the application sees: a question in, the answer streaming out. */
    interface Assistant {
        TokenStream answer(String question);
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: LongDocumentAssistant FILE QUESTION...");
            System.exit(2);
        }
        run(System.getProperty("pcw.chunker", "localhost:9101"), System.getProperty("pcw.generator", "localhost:9103"),
                Path.of(args[0]), Arrays.asList(args).subList(1, args.length), System.out);
    }

    /** Ingests the file, then asks each question, printing the answer as it streams and a line of figures after it. */
    public static void run(String chunkerAddress, String generatorAddress, Path file, List<String> questions, PrintStream out) {
        Document document = FileSystemDocumentLoader.loadDocument(file, new TextDocumentParser());
        try (PcwMeshDocumentIngestor ingestor = PcwMeshDocumentIngestor.builder().chunkerAddress(chunkerAddress).build();
             PcwMeshStreamingChatModel model = PcwMeshStreamingChatModel.builder()
                     .generatorAddress(generatorAddress)
                     .documentIds(ingestor.ingest(document))
                     .maxOutputTokens(48)
                     .build()) {
            Assistant assistant = AiServices.builder(Assistant.class).streamingChatModel(model).build();
            for (String question : questions) {
                out.println("Q: " + question);
                out.print("A: ");
                CompletableFuture<ChatResponse> done = new CompletableFuture<>();
                assistant.answer(question)
                        .onPartialResponse(piece -> { out.print(piece); out.flush(); })
                        .onCompleteResponse(done::complete)
                        .onError(done::completeExceptionally)
                        .start();
                ChatResponse response = done.join();
                AnswerFigures f = ((PcwMeshChatResponseMetadata) response.metadata()).figures();
                out.printf("%n   [%d/%d windows, %d tokens in, %d out, first token after %d ms, finish %s]%n",
                        f.getWindowsUsed(), f.getWindowsTotal(), response.tokenUsage().inputTokenCount(),
                        response.tokenUsage().outputTokenCount(), f.getTimeToFirstTokenMs(), response.finishReason());
            }
        }
    }
}
