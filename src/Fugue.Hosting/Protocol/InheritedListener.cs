namespace Fugue.Hosting.Protocol;

/// <summary>One inherited listening socket: its descriptor number in the worker and whether Kestrel must add TLS.</summary>
internal readonly record struct InheritedListener(int Fd, bool Https);
