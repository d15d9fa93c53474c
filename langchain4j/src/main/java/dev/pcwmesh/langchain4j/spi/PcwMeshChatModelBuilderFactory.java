package dev.pcwmesh.langchain4j.spi;

import dev.pcwmesh.langchain4j.PcwMeshChatModel;

import java.util.function.Supplier;

/**
 * Supplies the builder {@link PcwMeshChatModel#builder()} returns, when an implementation is
 * registered in {@code META-INF/services/dev.pcwmesh.langchain4j.spi.PcwMeshChatModelBuilderFactory}:
 * the hook LangChain4j's own providers offer (for example {@code OpenAiChatModelBuilderFactory}),
 * through which a framework hands out builders preconfigured from its settings.
 */
public interface PcwMeshChatModelBuilderFactory extends Supplier<PcwMeshChatModel.PcwMeshChatModelBuilder> {
}
