namespace Fugue.Hosting.KeyRing;

/// <summary>The master's decision: the shared ring's directory (null: the app configures its own), and the app's name.</summary>
internal sealed record KeyRingPlan(string? Path, string ApplicationName);
