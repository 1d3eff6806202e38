using Xunit.Abstractions;

[assembly: Xunit.TestCollectionOrderer("Fugue.Hosting.Tests.LongestFirst", "Fugue.Hosting.Tests")]

namespace Fugue.Hosting.Tests;

/// <summary>
/// Starts the collections that take longest first (the Release builds, the template app's build), so that the two
/// test threads do not end the parallel phase with one of them alone on a long build; the others keep xunit's order.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    private static readonly string[] Long = ["Release builds", "Test collection for Fugue.Hosting.Tests.Processes.BlazorServerTests"];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => Array.IndexOf(Long, c.DisplayName) is var i and >= 0 ? i : Long.Length);
}
