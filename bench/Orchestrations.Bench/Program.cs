// Engine benchmark: the Durable Task SDK on DTFx Azure Storage through Orchestrations.Durable, with DTFx's default
// settings and with the project's host.json (and any --config candidates), interleaved, a fresh Azurite per run.
// Run by hand (README "Durable engine"); the tests never run it.
using System.Globalization;
using System.Text.Json;
using Orchestrations.Bench;

BenchOptions? options = BenchOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project bench/Orchestrations.Bench -- [--quick] [--rounds N] [--idle-seconds S]
                 [--configs defaults,project,...] [--config name=key=value;key=value...]
          defaults  DTFx's own defaults (only hubName set)
          project   extensions.durableTask of the repository's host.json
          --config  a candidate: keys relative to extensions:durableTask, e.g. storageProvider:maxQueuePollingInterval=00:00:03
        """);
    return 2;
}

Console.WriteLine($"{Environment.ProcessorCount} cores; rounds {options.Rounds}; W1 {options.W1Instances} chains of 5; W2 {options.W2Runs} x fan-out {options.W2Width}; " +
    $"W3 {options.W3Instances} events; quiet {options.IdleSeconds} s; configs {string.Join(", ", options.Configs.Keys)}");
foreach ((string name, Dictionary<string, string?> values) in options.Configs)
{
    Console.WriteLine($"  {name}: {(values.Count == 0 ? "(DTFx defaults)" : string.Join("; ", values.Select(v => $"{v.Key}={v.Value}")))}");
}

List<RunResult> results = [];
for (int round = 1; round <= options.Rounds; round++)
{
    foreach ((string name, Dictionary<string, string?> values) in options.Configs)
    {
        RunResult result = await BenchRun.RunAsync(name, round, values, options);
        results.Add(result);
        Console.WriteLine(result.OneLine());
    }
}

Report.Print(results, options);
return 0;

internal sealed class BenchOptions
{
    public int Rounds { get; private set; } = 3;

    public int IdleSeconds { get; private set; } = 60;

    public int W1Instances { get; private set; } = 200;

    public int W2Width { get; private set; } = 500;

    public int W2Runs { get; private set; } = 3;

    public int W3Instances { get; private set; } = 100;

    /// <summary>Instances waiting for the single-event measurements (each one a sample; they spread over the partitions).</summary>
    public int QuietSamples { get; private set; } = 4;

    public Dictionary<string, Dictionary<string, string?>> Configs { get; } = new(StringComparer.Ordinal);

    public static BenchOptions? Parse(string[] args)
    {
        BenchOptions o = new();
        List<string> names = ["defaults", "project"];
        Dictionary<string, Dictionary<string, string?>> candidates = new(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    o.Rounds = 1;
                    o.IdleSeconds = 20;
                    o.W1Instances = 50;
                    o.W2Width = 200;
                    o.W2Runs = 1;
                    o.W3Instances = 30;
                    break;
                case "--rounds" when i + 1 < args.Length:
                    o.Rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--idle-seconds" when i + 1 < args.Length:
                    o.IdleSeconds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--configs" when i + 1 < args.Length:
                    names = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries)];
                    break;
                case "--config" when i + 1 < args.Length:
                    string spec = args[++i];
                    int eq = spec.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        return null;
                    }

                    candidates[spec[..eq]] = spec[(eq + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries)
                        .Select(kv => kv.Split('=', 2))
                        .ToDictionary(kv => kv[0], kv => (string?)kv[1], StringComparer.OrdinalIgnoreCase);
                    if (!names.Contains(spec[..eq]))
                    {
                        names.Add(spec[..eq]);
                    }

                    break;
                default:
                    return null;
            }
        }

        foreach (string name in names)
        {
            Dictionary<string, string?>? values = name switch
            {
                "defaults" => [],
                "project" => ProjectHostJson(),
                _ => candidates.GetValueOrDefault(name),
            };
            if (values is null)
            {
                return null;
            }

            o.Configs[name] = values;
        }

        return o;
    }

    /// <summary>extensions.durableTask of the repository's host.json, flattened to configuration keys (hubName left out).</summary>
    private static Dictionary<string, string?> ProjectHostJson()
    {
        string path = Path.Combine(Orchestrations.Testing.RepositoryPaths.RepositoryRoot, "host.json");
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        Dictionary<string, string?> values = new(StringComparer.OrdinalIgnoreCase);
        if (doc.RootElement.TryGetProperty("extensions", out JsonElement ext) && ext.TryGetProperty("durableTask", out JsonElement dt))
        {
            Flatten(dt, "", values);
        }

        values.Remove("hubName");
        return values;

        static void Flatten(JsonElement e, string prefix, Dictionary<string, string?> into)
        {
            if (e.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    Flatten(p.Value, prefix.Length == 0 ? p.Name : prefix + ":" + p.Name, into);
                }
            }
            else
            {
                into[prefix] = e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText();
            }
        }
    }
}
