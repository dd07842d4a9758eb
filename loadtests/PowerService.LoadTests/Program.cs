using PowerService.LoadTests.Benchmarks;
using PowerService.LoadTests.Harness;

namespace PowerService.LoadTests;

internal static class Program
{
    private static readonly Dictionary<string, Func<CommandLine, Task>> Benchmarks = new(StringComparer.Ordinal)
    {
        ["calls"] = CallsBenchmark.RunAsync,
        ["activations"] = ActivationsBenchmark.RunAsync,
        ["reminders"] = RemindersBenchmark.RunAsync,
        ["storage"] = StorageBenchmark.RunAsync,
        ["metrics"] = MetricsBenchmark.RunAsync,
        ["dispatch"] = DispatchBenchmark.RunAsync,
        ["storm"] = StormBenchmark.RunAsync,
        ["lifecycle"] = LifecycleBenchmark.RunAsync,
    };

    public static async Task<int> Main(string[] args)
    {
        CommandLine command;
        try
        {
            command = CommandLine.Parse(args);
            if (command.Command != "all" && !Benchmarks.ContainsKey(command.Command))
            {
                throw new ArgumentException($"'{command.Command}' is not a benchmark.");
            }
        }
        catch (ArgumentException error)
        {
            await Console.Error.WriteLineAsync(error.Message);
            await Console.Error.WriteLineAsync(
                "usage: PowerService.LoadTests <calls|activations|reminders|storage|metrics|lifecycle|dispatch|storm|all> " +
                "[--callers n] [--grains n] [--crews n] [--orders n] [--count n] [--concurrency n] [--rate n] [--store sqlite|postgres] [--warmup s] [--measure s] [--rounds n]");
            return 2;
        }
        var chosen = command.Command == "all" ? Benchmarks.Values.ToList() : [Benchmarks[command.Command]];
        foreach (var benchmark in chosen)
        {
            await benchmark(command);
        }
        return 0;
    }
}
