using Fugue.Hosting.Configuration;
using Fugue.Hosting.Master;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Fugue.Hosting.Tests.Units;

/// <summary>A HUP's configuration is a candidate: taken whole, or refused with the file or key and the value.</summary>
public sealed class ConfigurationReloadTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.json");
    private readonly ConfigurationReload _reload;

    public ConfigurationReloadTests()
    {
        File.WriteAllText(_file, """{ "Fugue": { "Workers": 2 } }""");
        var configuration = new ConfigurationBuilder().AddJsonFile(_file, optional: false, reloadOnChange: false).Build();
        _reload = new ConfigurationReload(StartOptions.Read(new OptionsSource(configuration, o => o.WarmUpRequests = 5)), [new FugueOptionsValidator()]);
    }

    [Theory]
    [InlineData("""{ "Fugue": { "Workers": 3 """, "Failed to load configuration from file", "LineNumber")]
    [InlineData("""{ "Fugue": { "Workers": -1 } }""", "Fugue:Workers = -1: must be 0 or more.", null)]
    [InlineData("""{ "Fugue": { "Workers": "many" } }""", "'many' at 'Fugue:Workers'", null)]
    [InlineData("""{ "Fugue": { "Listen": [ "http://example.org:80" ] } }""", "Fugue:Listen:0 = 'http://example.org:80'", null)]
    [InlineData("""{ "Fugue": { "User": "no-such-user" } }""", "Fugue:User = 'no-such-user': no such user.", null)]
    [InlineData("""{ "Fugue": { "WorkingDirectory": "/no/such/dir" } }""", "Fugue:WorkingDirectory = '/no/such/dir'", null)]
    [InlineData("""{ "Fugue": { "User": { "name": "www" } } }""", "Fugue:User holds a section (name): it takes one value.", null)]
    [InlineData("""{ "Fugue": { "Wokers": 3 } }""", "Fugue: a key that no option has (a typo?)", null)]
    [InlineData("""{ "Fugue": { "PidFile": "" } }""", "Fugue:PidFile = '': must be a path", null)]
    [InlineData("""{ "Fugue": { "User": "www\n\u001b[2Jdata" } }""", "Fugue:User = 'www\\x0A\\x1B[2Jdata': no such user.", null)]
    public void A_bad_file_is_refused_naming_what_is_wrong_and_a_repaired_one_is_taken(string json, string named, string? alsoNamed)
    {
        File.WriteAllText(_file, json);

        Assert.Null(_reload.TryRead(out string refusal));
        Assert.Contains(named, refusal, StringComparison.Ordinal);
        if (alsoNamed is not null)
        {
            Assert.Contains(alsoNamed, refusal, StringComparison.Ordinal);
            Assert.Contains(_file, refusal, StringComparison.Ordinal);
        }

        File.WriteAllText(_file, """{ "Fugue": { "Workers": 3 } }""");
        var taken = _reload.TryRead(out _);
        Assert.Equal(3, taken?.Workers);
        Assert.Equal(5, taken?.WarmUpRequests); // the app's own delegate still applies
    }

    [Fact]
    public void The_keys_a_hup_cannot_apply_are_named_with_both_values_and_kept_as_they_run()
    {
        var running = new FugueOptions { PidFile = "/run/a.pid", Workers = 2 };
        running.Listen.Add("http://127.0.0.1:5000");
        var candidate = new FugueOptions { PidFile = "/run/a.pid", Workers = 4 };
        candidate.Listen.Add("http://127.0.0.1:6000");

        Assert.Equal([("Listen", "http://127.0.0.1:5000", "http://127.0.0.1:6000")], StartOnlyOptions.Changed(running, candidate));
        var kept = StartOnlyOptions.Kept(running, candidate);
        Assert.Equal(["http://127.0.0.1:5000"], kept.Listen); // what a HUP applies, and nothing else
        Assert.Equal(4, kept.Workers);
        Assert.Empty(StartOnlyOptions.Changed(running, kept));
    }

    public void Dispose()
    {
        File.Delete(_file);
    }
}
