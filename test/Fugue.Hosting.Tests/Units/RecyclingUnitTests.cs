using Fugue.Hosting.Cli;
using Fugue.Hosting.Master;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Protocol;
using Fugue.Hosting.Worker;

namespace Fugue.Hosting.Tests.Units;

/// <summary>What recycling and hang detection measure: a worker's private memory, its requests, their age; and the stacks report.</summary>
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
    public void The_request_meter_counts_only_once_it_serves_and_completes_once_at_its_limit()
    {
        var counter = new RequestMeter(3, null);
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

    [Fact]
    public void The_diagnostics_socket_is_the_live_process_s_not_a_stale_one_an_earlier_process_of_its_pid_left()
    {
        string dir = Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } tmp ? tmp : "/tmp";
        string stale = Path.Combine(dir, $"dotnet-diagnostic-{Environment.ProcessId}-999999999999-socket"); // sorts after any real key
        File.WriteAllText(stale, "");
        try
        {
            string socket = Fugue.Hosting.Master.Control.StackCapture.SocketOf(Environment.ProcessId);

            Assert.NotEqual(stale, socket);
            Assert.True(Fugue.Hosting.Native.Posix.IsSocket(socket), socket);

            // Reached as itself, not through a link: a link planted in its place names a socket of someone else's choosing.
            string link = Path.Combine(dir, $"fugue-test-link-{Environment.ProcessId}");
            File.CreateSymbolicLink(link, socket);
            try
            {
                Assert.Throws<IOException>(() => Fugue.Hosting.Native.Posix.OpenSocketNoFollow(link));
                Fugue.Hosting.Native.Posix.Close(Fugue.Hosting.Native.Posix.OpenSocketNoFollow(socket));
            }
            finally
            {
                File.Delete(link);
            }
        }
        finally
        {
            File.Delete(stale);
        }
    }

    [Theory]
    [InlineData("master", "HelloWeb", "master HelloWeb")]
    [InlineData("old w12", "Fugue.Hosting.TestApp", "old w12 Fugue.H")]
    [InlineData("spare", "Ünïcode", "spare Ünïcode")]
    [InlineData("old master", "Äpp", "old master Äpp")]
    [InlineData("old master", "ÄÄÄ", "old master ÄÄ")] // 15 bytes at most, no character cut in two
    public void A_process_title_is_its_role_then_as_much_of_the_app_name_as_fits(string role, string app, string title) =>
        Assert.Equal(title, Fugue.Hosting.Native.ProcessTitle.For(role, app));

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

    [Fact]
    public void A_stacks_report_prints_each_threads_named_frames_escaped()
    {
        const string report = """
            {"payload":{"threads":[
              {"is_managed":"true","native_thread_id":"0x10","stack_frames":[
                {"is_managed":"false","unmanaged_name":"pthread_cond_wait","native_module":"libc.so.6"},
                {"is_managed":"false","native_module":"libcoreclr.so"},
                {"is_managed":"true","method_name":"Hang.Sleep(Int32)"},
                {"is_managed":"true","method_name":"Forged\u001b[2J"}]},
              {"is_managed":"false","native_thread_id":"0x11","stack_frames":[]}]}}
            """;

        Assert.Equal("Thread 0x10 (managed)\n  at pthread_cond_wait (libc.so.6)\n  at Hang.Sleep(Int32)\n  at Forged\\x1B[2J\nThread 0x11\n",
            StacksReport.Format(System.Text.Encoding.UTF8.GetBytes(report)));
        Assert.Equal(ControlVerb.Stacks, ControlRequest.Parse("stacks 2", out _)!.Verb);
        Assert.Null(ControlRequest.Parse("stacks 0", out string error));
        Assert.Contains("stacks takes the id of a serving worker", error, StringComparison.Ordinal);
    }
}
