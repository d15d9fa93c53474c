package dev.pcwmesh.runtime.gguf;

/** A GGUF file that cannot be read or used: the message names what is wrong and where. */
public class GgufException extends RuntimeException {
    public GgufException(String message) { super(message); }
    public GgufException(String message, Throwable cause) { super(message, cause); }
}
