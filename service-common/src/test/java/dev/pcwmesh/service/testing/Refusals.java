package dev.pcwmesh.service.testing;

import dev.pcwmesh.service.Rejected;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the services' tests check a refusal: the status code, the reason in the trailer, and "REASON: message" as description. */
public final class Refusals {
    private Refusals() {}

    public static void assertRefused(Status.Code code, String reason, Supplier<?> call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::get);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertEquals(reason, e.getTrailers() == null ? null : e.getTrailers().get(Rejected.REASON_KEY), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription() != null && e.getStatus().getDescription().startsWith(reason + ": "), e.getStatus().toString());
    }
}
