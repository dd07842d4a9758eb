using PowerService.LoadTests.Grains;
using PowerService.LoadTests.Harness;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>Local grain call throughput against a raw channel mailbox with the same callers and actors, in
/// interleaved rounds (baseline, grain, baseline, grain, ...).</summary>
internal static class CallsBenchmark
{
    public const double TargetCallsPerSecond = 1_000_000;
    public const double TargetRatio = 0.5;

    public static async Task RunAsync(CommandLine args)
    {
        var setup = CallSetup.From(args);
        Report.Title("calls", $"local grain call throughput: {setup.Describe()}");
        if (args.Text("store") is { } store && store != "sqlite")
        {
            Report.Line($"(--store {store} ignored: stateless grains never touch the store)");
        }
        await using var sqlite = await BenchmarkStore.OpenAsync("sqlite");
        await using var silo = await BenchmarkSilo.StartAsync((await sqlite.CreateDatabaseAsync("calls")).Provider);
        var grains = await setup.ReferencesAsync(silo);
        await using var actors = new ChannelActors(setup.Grains);

        var table = new ResultTable("round", "channel baseline", "grain calls", "grain/baseline");
        var baseline = new List<double>();
        var grain = new List<double>();
        for (var round = 1; round <= setup.Rounds; round++)
        {
            baseline.Add(await setup.MeasureAsync((caller, n) => actors.Ping(CallLoad.Pick(caller, n, setup.Grains), (int)n)));
            grain.Add(await setup.MeasureAsync((caller, n) => grains[CallLoad.Pick(caller, n, setup.Grains)].Ping((int)n)));
            table.Add(round.ToString(System.Globalization.CultureInfo.InvariantCulture), Report.Rate(baseline[^1]), Report.Rate(grain[^1]), Report.Ratio(grain[^1] / baseline[^1]));
        }
        var ratio = Statistics.Median(grain) / Statistics.Median(baseline);
        table.Add("median", Report.Rate(Statistics.Median(baseline)), Report.Rate(Statistics.Median(grain)), Report.Ratio(ratio));
        table.Print();
        Report.Target("≥ 1,000,000 calls/s", Statistics.Median(grain) >= TargetCallsPerSecond);
        Report.Target("≥ 50% of the channel baseline", ratio >= TargetRatio);
    }
}

/// <summary>The call workload shared by <c>calls</c> and <c>metrics</c>: many callers, each awaiting one call at a
/// time to a grain picked from a pool.</summary>
internal sealed record CallSetup(int Callers, int Grains, TimeSpan Warmup, TimeSpan Measure, int Rounds)
{
    public static CallSetup From(CommandLine args) => new(
        args.Int("callers", 512), args.Int("grains", 1_000), args.Seconds("warmup", 3), args.Seconds("measure", 5), args.Int("rounds", 3));

    public string Describe() =>
        $"{Callers} callers over {Grains} grains, {Warmup.TotalSeconds:0.#} s warm-up + {Measure.TotalSeconds:0.#} s measured per round, {Rounds} rounds each";

    /// <summary>References made once, as a caller holding on to them would; the first round activates the grains.
    /// One call is checked here because the load loops do not read results.</summary>
    public async Task<IPingGrain[]> ReferencesAsync(BenchmarkSilo silo)
    {
        var grains = Enumerable.Range(0, Grains).Select(i => silo.Grain<IPingGrain>($"ping-{i}")).ToArray();
        var answer = await grains[0].Ping(41);
        return answer == 42 ? grains : throw new InvalidOperationException($"Ping(41) answered {answer}, not 42.");
    }

    public Task<double> MeasureAsync(Func<int, long, Task> call)
    {
        GC.Collect();
        return CallLoad.MeasureAsync(Callers, call, Warmup, Measure);
    }
}
