namespace Fugue.Hosting.Protocol;

/// <summary>One listening socket a new master inherits from the old one, and the Listen entry it was bound for.</summary>
internal readonly record struct InheritedSocket(int Fd, string ListenEntry);
