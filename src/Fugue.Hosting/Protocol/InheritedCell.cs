namespace Fugue.Hosting.Protocol;

/// <summary>An inherited shared table's descriptor (<see cref="ConnectionTable"/>, <see cref="RequestTable"/>) and the worker's cell in it.</summary>
internal readonly record struct InheritedCell(int Fd, int Cell);
