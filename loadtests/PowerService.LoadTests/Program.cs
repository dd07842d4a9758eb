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
        ["import"] = ImportBenchmark.RunAsync,
        ["dispatch"] = DispatchBenchmark.RunAsync,
        ["storm"] = StormBenchmark.RunAsync,
        ["lifecycle"] = LifecycleBenchmark.RunAsync,
        ["ami-storm"] = AmiStormBenchmark.RunAsync,
        ["notices"] = NoticesBenchmark.RunAsync,
        ["api-load"] = ApiLoadBenchmark.RunAsync,
        ["signalr"] = SignalRBenchmark.RunAsync,
        ["monitor"] = MonitorBenchmark.RunAsync,
        ["recovery"] = RecoveryBenchmark.RunAsync,
        ["energy-memory"] = EnergyMemoryBenchmark.RunAsync,
    };

    // Commands that are not benchmarks, so "all" leaves them out.
    private static readonly Dictionary<string, Func<CommandLine, Task>> Tools = new(StringComparer.Ordinal)
    {
        ["generate-topology"] = GenerateTopology.RunAsync,
        ["signalr-clients"] = SignalRBenchmark.RunClientsAsync,
    };

    public static async Task<int> Main(string[] args)
    {
        CommandLine command;
        try
        {
            command = CommandLine.Parse(args);
            if (command.Command != "all" && !Benchmarks.ContainsKey(command.Command) && !Tools.ContainsKey(command.Command))
            {
                throw new ArgumentException($"'{command.Command}' is not a benchmark.");
            }
        }
        catch (ArgumentException error)
        {
            await Console.Error.WriteLineAsync(error.Message);
            await Console.Error.WriteLineAsync(
                "usage: PowerService.LoadTests <calls|activations|reminders|storage|metrics|import|lifecycle|dispatch|storm|ami-storm|notices|api-load|signalr|monitor|recovery|all> " +
                "[--callers n] [--grains n] [--crews n] [--orders n] [--count n] [--concurrency n] [--rate n] [--store sqlite|sqlite-normal|postgres] [--warmup s] [--measure s] [--rounds n] [--customers n] [--batch n] [--calls n] [--clients process] [--regions n]\n" +
                "       PowerService.LoadTests generate-topology [--customers n] [--out folder]");
            return 2;
        }
        if (Tools.TryGetValue(command.Command, out var tool))
        {
            await tool(command);
            return 0;
        }
        var chosen = command.Command == "all" ? Benchmarks.Values.ToList() : [Benchmarks[command.Command]];
        foreach (var benchmark in chosen)
        {
            await benchmark(command);
        }
        return 0;
    }
}
