package dev.pcwmesh.langchain4j;

import dev.langchain4j.model.chat.response.ChatResponseMetadata;
import dev.pcwmesh.proto.v1.AnswerFigures;

import java.util.Objects;

/**
 * What LangChain4j reports of every answer (the request id as {@code id}, token usage, finish
 * reason), plus the mesh's own figures: windows used, time to first token, where the segments came
 * from, KV bytes, a note on the plan. {@code modelName} is null: the generator answers with the
 * one model it loaded and does not name it in the answer.
 */
public class PcwMeshChatResponseMetadata extends ChatResponseMetadata {

    private final AnswerFigures figures;

    protected PcwMeshChatResponseMetadata(Builder builder) {
        super(builder);
        this.figures = builder.figures;
    }

    /** The figures of the answer's last event, as the generator sent them. */
    public AnswerFigures figures() { return figures; }

    @Override
    public Builder toBuilder() {
        return ((Builder) super.toBuilder(builder())).figures(figures);
    }

    @Override
    public boolean equals(Object o) {
        return super.equals(o) && Objects.equals(figures, ((PcwMeshChatResponseMetadata) o).figures);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), figures);
    }

    @Override
    public String toString() {
        return "PcwMeshChatResponseMetadata{id='" + id() + "', tokenUsage=" + tokenUsage() + ", finishReason=" + finishReason()
                + ", figures={" + (figures == null ? "" : figures.toString().strip().replace('\n', ' ')) + "}}";
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link PcwMeshChatResponseMetadata}. */
    public static class Builder extends ChatResponseMetadata.Builder<Builder> {
        private AnswerFigures figures;

        public Builder figures(AnswerFigures figures) {
            this.figures = figures;
            return this;
        }

        @Override
        public PcwMeshChatResponseMetadata build() {
            return new PcwMeshChatResponseMetadata(this);
        }
    }
}
