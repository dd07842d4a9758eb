using System.Globalization;

namespace PowerService.LoadTests.Harness;

/// <summary>The subcommand and its <c>--name value</c> options. Unknown options are refused, so a typo never
/// silently runs a benchmark with its defaults.</summary>
internal sealed class CommandLine
{
    private static readonly HashSet<string> KnownOptions =
        new(["callers", "grains", "count", "concurrency", "rate", "store", "warmup", "measure", "rounds", "customers", "out", "crews", "orders", "batch", "calls", "clients", "hub", "prefix", "results", "area-calls", "openings", "allocations", "regions"], StringComparer.Ordinal);

    private readonly Dictionary<string, string> _options;

    private CommandLine(string command, Dictionary<string, string> options)
    {
        Command = command;
        _options = options;
    }

    public string Command { get; }

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            throw new ArgumentException("Name a benchmark.");
        }
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Count; i += 2)
        {
            var name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : "";
            if (!KnownOptions.Contains(name) || i + 1 >= args.Count)
            {
                throw new ArgumentException($"'{args[i]}' is not an option with a value; options are --{string.Join(", --", KnownOptions)}.");
            }
            options[name] = args[i + 1];
        }
        return new CommandLine(args[0], options);
    }

    public int Int(string name, int fallback)
    {
        if (!_options.TryGetValue(name, out var text))
        {
            return fallback;
        }
        return int.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"--{name} must be a positive whole number, not '{text}'.");
    }

    public TimeSpan Seconds(string name, double fallback)
    {
        if (!_options.TryGetValue(name, out var text))
        {
            return TimeSpan.FromSeconds(fallback);
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0
            ? TimeSpan.FromSeconds(value)
            : throw new ArgumentException($"--{name} must be a positive number of seconds, not '{text}'.");
    }

    public string? Text(string name) => _options.GetValueOrDefault(name);
}
