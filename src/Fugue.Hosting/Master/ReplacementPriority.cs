namespace Fugue.Hosting.Master;

/// <summary>
/// The nice values of a master whose replacements start below the serving processes (Fugue:ReplacementNice):
/// <paramref name="Serving"/> for whatever serves, <paramref name="Starting"/> for a replacement worker or a new
/// master until it is ready.
/// </summary>
internal sealed record ReplacementPriority(int Serving, int Starting);
