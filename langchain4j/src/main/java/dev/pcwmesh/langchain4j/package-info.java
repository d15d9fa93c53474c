/**
 * PCW Mesh as a LangChain4j provider: {@link dev.pcwmesh.langchain4j.PcwMeshChatModel} and
 * {@link dev.pcwmesh.langchain4j.PcwMeshStreamingChatModel} answer over documents longer than
 * the model's window, {@link dev.pcwmesh.langchain4j.PcwMeshDocumentIngestor} puts LangChain4j
 * documents into the mesh, and {@link dev.pcwmesh.langchain4j.PcwMeshContentRetriever} hands
 * RAG chains the windows a query attends to most. Everything talks gRPC to a running mesh.
 */
package dev.pcwmesh.langchain4j;
