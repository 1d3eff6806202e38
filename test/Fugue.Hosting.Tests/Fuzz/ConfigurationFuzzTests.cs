using System.Text.Json.Nodes;
using Fugue.Hosting.Configuration;
using Fugue.Hosting.Master;
using Microsoft.Extensions.Configuration;

namespace Fugue.Hosting.Tests.Fuzz;

/// <summary>
/// A HUP's configuration with random values for random options (strings, numbers, huge ones, empty, arrays, objects,
/// null): each candidate is taken whole and valid, or refused with a line naming a key it set; nothing throws.
/// </summary>
public sealed class ConfigurationFuzzTests : IDisposable
{
    private static readonly string[] Keys = typeof(FugueOptions).GetProperties()
        .Where(p => p.CanWrite && !typeof(Delegate).IsAssignableFrom(p.PropertyType)).Select(p => p.Name).ToArray();

    private readonly string _file = Path.Combine(Path.GetTempPath(), $"fugue-fuzz-{Guid.NewGuid():N}.json");

    [Fact]
    public void Random_values_for_every_option_are_taken_valid_or_refused_naming_a_key()
    {
        File.WriteAllText(_file, """{ "Fugue": { "Workers": 2 } }""");
        var configuration = new ConfigurationBuilder().AddJsonFile(_file, optional: false, reloadOnChange: false).Build();
        var reload = new ConfigurationReload(StartOptions.Read(new OptionsSource(configuration, configure: null)), [new FugueOptionsValidator()]);
        var random = new Random(FuzzRun.Seed);
        long inputs = 0, taken = 0, before = GC.GetTotalMemory(forceFullCollection: true);

        var end = DateTime.UtcNow + FuzzRun.Duration;
        while (DateTime.UtcNow < end)
        {
            var section = new JsonObject();
            var set = Keys.OrderBy(_ => random.Next()).Take(random.Next(1, 4)).ToList();
            foreach (string key in set)
            {
                section[key] = RandomValue(random);
            }
            File.WriteAllText(_file, new JsonObject { ["Fugue"] = section }.ToJsonString());

            var options = reload.TryRead(out string refusal);

            inputs++;
            if (options is not null)
            {
                taken++;
                Assert.True(options.Workers >= 0 && options.WorkerTimeout > TimeSpan.Zero, section.ToJsonString());
            }
            else
            {
                Assert.True(set.Any(k => refusal.Contains($"Fugue:{k}", StringComparison.Ordinal)), $"{section.ToJsonString()} was refused without naming a key: {refusal}");
                Assert.DoesNotContain('\n', refusal);
            }
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);
        FuzzRun.Report($"configuration on HUP ({taken} taken)", inputs, $"{before / 1024} KiB managed", $"{after / 1024} KiB managed");
    }

    private static JsonNode? RandomValue(Random random) => random.Next(9) switch
    {
        0 => JsonValue.Create(RandomString(random)),
        1 => JsonValue.Create(random.NextInt64(long.MinValue, long.MaxValue)),
        2 => JsonValue.Create(random.Next(-3, 10)),
        3 => JsonValue.Create(random.NextDouble() * Math.Pow(10, random.Next(0, 300))),
        4 => JsonValue.Create(""),
        5 => new JsonArray(RandomValue(random), JsonValue.Create(RandomString(random))),
        6 => new JsonObject { [RandomString(random)] = RandomValue(random) },
        7 => JsonValue.Create(new[] { "00:00:05", "-00:00:01", "99999999.00:00:00", "true", "false", "/tmp", "http://127.0.0.1:0", "unix:/x" }[random.Next(8)]),
        _ => null,
    };

    private static string RandomString(Random random)
    {
        char[] chars = new char[random.Next(0, 40)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)random.Next(1, 0x3000);
        }
        return new string(chars);
    }

    public void Dispose() => File.Delete(_file);
}
