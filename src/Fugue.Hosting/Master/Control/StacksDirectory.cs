namespace Fugue.Hosting.Master.Control;

/// <summary>Where the workers write their stacks; null, with the reason, when it could not be made.</summary>
internal sealed record StacksDirectory(string? Path, string? Problem);
