package dev.pcwmesh.langchain4j.spi;

import dev.pcwmesh.langchain4j.PcwMeshChatModel;
import dev.pcwmesh.langchain4j.PcwMeshStreamingChatModel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * The builder SPI: with a factory registered in META-INF/services (this test's resources register
 * the two below), {@code builder()} returns the factory's builder, as LangChain4j's providers do
 * for frameworks that hand out preconfigured builders. The factories' builders behave like the
 * plain ones, so the module's other tests, in the same JVM, are not affected.
 */
class BuilderFactoryTest {

    /** A builder a framework might subclass; this one adds nothing. */
    public static final class FrameworkChatModelBuilder extends PcwMeshChatModel.PcwMeshChatModelBuilder { }

    public static final class FrameworkStreamingChatModelBuilder extends PcwMeshStreamingChatModel.PcwMeshStreamingChatModelBuilder { }

    public static final class ChatFactory implements PcwMeshChatModelBuilderFactory {
        @Override
        public PcwMeshChatModel.PcwMeshChatModelBuilder get() { return new FrameworkChatModelBuilder(); }
    }

    public static final class StreamingFactory implements PcwMeshStreamingChatModelBuilderFactory {
        @Override
        public PcwMeshStreamingChatModel.PcwMeshStreamingChatModelBuilder get() { return new FrameworkStreamingChatModelBuilder(); }
    }

    @Test
    void builderComesFromTheRegisteredFactory() {
        assertInstanceOf(FrameworkChatModelBuilder.class, PcwMeshChatModel.builder());
        assertInstanceOf(FrameworkStreamingChatModelBuilder.class, PcwMeshStreamingChatModel.builder());
    }
}
