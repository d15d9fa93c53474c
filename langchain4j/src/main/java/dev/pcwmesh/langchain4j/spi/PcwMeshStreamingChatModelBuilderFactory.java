package dev.pcwmesh.langchain4j.spi;

import dev.pcwmesh.langchain4j.PcwMeshStreamingChatModel;

import java.util.function.Supplier;

/**
 * Supplies the builder {@link PcwMeshStreamingChatModel#builder()} returns, when an implementation
 * is registered in {@code META-INF/services/dev.pcwmesh.langchain4j.spi.PcwMeshStreamingChatModelBuilderFactory}
 * (see {@link PcwMeshChatModelBuilderFactory}).
 */
public interface PcwMeshStreamingChatModelBuilderFactory extends Supplier<PcwMeshStreamingChatModel.PcwMeshStreamingChatModelBuilder> {
}
