"""The Vertex JobService and google.longrunning.Operations over gRPC.

The same VertexApi as REST sits behind it, so the gRPC clients (the low-level
JobServiceClient and the high-level SDK's default transport) get the same answers.
"""
