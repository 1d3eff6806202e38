namespace Fugue.Hosting.Tests;

/// <summary>Assertions over every item of a collection that fail on an empty one: an empty collection proves nothing.</summary>
internal static class NonEmpty
{
    public static void All<T>(IEnumerable<T> items, Action<T> check)
    {
        var list = items.ToList();
        Assert.NotEmpty(list);
        Assert.All(list, check);
    }
}
