package dev.pcwmesh.generator.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.pcwmesh.proto.v1.AnswerFigures;

/**
 * The extension object {@code pcw_figures}: the mesh's {@code AnswerFigures} of the answer (windows
 * placed, where the segments came from, time to first token ...), field for field in snake case.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record PcwFigures(int windowsUsed, int windowsTotal, int contextTokens, int tokensIn, int tokensOut,
                         long timeToFirstTokenMs, double interTokenMs, int segmentCacheHits, int segmentsFetched,
                         int segmentsEncodedHere, long segmentBytesFetched, long fetchMs, long kvBytes,
                         String stopReason, String note) {

    public static PcwFigures of(AnswerFigures f) {
        return new PcwFigures(f.getWindowsUsed(), f.getWindowsTotal(), f.getContextTokens(), f.getTokensIn(), f.getTokensOut(),
                f.getTimeToFirstTokenMs(), f.getInterTokenMs(), f.getSegmentCacheHits(), f.getSegmentsFetched(),
                f.getSegmentsEncodedHere(), f.getSegmentBytesFetched(), f.getFetchMs(), f.getKvBytes(),
                f.getStopReason(), f.getNote());
    }
}
