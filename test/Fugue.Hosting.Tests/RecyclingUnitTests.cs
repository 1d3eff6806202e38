using FugueHosting.Hosting;
using FugueHosting.Master;
using FugueHosting.Worker;

namespace Fugue.Hosting.Tests;

/// <summary>What recycling measures: a worker's private memory, and the requests it counts.</summary>
public sealed class RecyclingUnitTests
{
    [Fact]
    public void Private_memory_is_private_dirty_plus_swap_not_rss_or_shared_or_clean_pages()
    {
        const string smapsRollup = """
            55d0c2a3e000-7ffd5b9f1000 ---p 00000000 00:00 0                          [rollup]
            Rss:              307200 kB
            Pss:              204800 kB
            Pss_Anon:         102400 kB
            Shared_Clean:      51200 kB
            Shared_Dirty:     102400 kB
            Private_Clean:     20480 kB
            Private_Dirty:     81920 kB
            Referenced:       307200 kB
            Anonymous:         81920 kB
            Swap:               4096 kB
            SwapPss:            4096 kB
            Locked:                0 kB
            """;

        Assert.Equal((81920L + 4096) * 1024, PrivateMemory.Parse(smapsRollup));
        Assert.Null(PrivateMemory.Parse("Rss: 12 kB\n"));
        Assert.Null(PrivateMemory.Parse("Private_Dirty: lots kB\n"));
    }

    [Fact]
    public void Private_memory_of_this_process_is_read_and_of_a_process_that_is_gone_is_null()
    {
        Assert.InRange(PrivateMemory.Of(Environment.ProcessId) ?? 0, 1L << 20, long.MaxValue);
        Assert.Null(PrivateMemory.Of(int.MaxValue));
    }

    [Fact]
    public void The_request_counter_counts_only_once_it_serves_and_completes_once_at_its_limit()
    {
        var counter = new RequestCounter(limit: 3);
        counter.Completed(); // a warm-up request
        Assert.Equal(0, counter.Served);

        counter.Start();
        counter.Completed();
        counter.Completed();
        Assert.False(counter.LimitReached.IsCompleted);
        counter.Completed();
        Assert.True(counter.LimitReached.IsCompleted);
        counter.Completed();
        Assert.Equal(4, counter.Served);
    }

    [Theory]
    [InlineData("MaxRequests", "-1", "Fugue:MaxRequests = -1: must be 0 (off) or more.")]
    [InlineData("MaxRequestsJitter", "-5", "Fugue:MaxRequestsJitter = -5: must be 0 (off) or more.")]
    [InlineData("MemoryLimit", "-1", "Fugue:MemoryLimit = -1: must be 0 (off) or more.")]
    [InlineData("MaxRestarts", "-1", "Fugue:MaxRestarts = -1: must be 0 (off) or more.")]
    [InlineData("RecycleConcurrency", "0", "Fugue:RecycleConcurrency = 0: must be 1 or more.")]
    [InlineData("MaxLifetime", "-00:00:01", "Fugue:MaxLifetime = -00:00:01: must be zero (off) or more")]
    [InlineData("MaxLifetime", "00:00:05", "Fugue:MaxLifetime = 00:00:05: must be at least Fugue:MinLifetime (00:00:10), or zero (off).")]
    [InlineData("MinLifetime", "-00:00:01", "Fugue:MinLifetime = -00:00:01: must be zero (off) or more")]
    public void A_bad_recycling_option_is_named_with_its_value(string key, string value, string message)
    {
        var options = new FugueOptions();
        var property = typeof(FugueOptions).GetProperty(key)!;
        property.SetValue(options, property.PropertyType == typeof(TimeSpan)
            ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : Convert.ChangeType(value, property.PropertyType, System.Globalization.CultureInfo.InvariantCulture));

        var result = new FugueOptionsValidator().Validate(null, options);

        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }
}
