using System.Globalization;
using PowerService.LoadTests.Grains;
using PowerService.LoadTests.Harness;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>What listening to the runtime's metrics costs the call path: the <c>calls</c> workload with no listener,
/// then with an exporter-like listener on every instrument. A third variant, a listener whose callbacks do nothing,
/// splits the cost between the runtime's recording and the exporter. The callers run throughout and the variants
/// take turns in short windows (off, listener, exporter, off, ...), because on a shared machine throughput drifts by
/// more than the few percent looked for: each round's ratios compare windows seconds apart.</summary>
internal static class MetricsBenchmark
{
    public const double TargetOverhead = 0.03;

    // Lets the newly enabled or disabled recording path settle before a window is counted.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(250);

    public static async Task RunAsync(CommandLine args)
    {
        var callers = args.Int("callers", 512);
        var grainCount = args.Int("grains", 1_000);
        var warmup = args.Seconds("warmup", 3);
        var window = args.Seconds("measure", 2);
        var rounds = args.Int("rounds", 10);
        Report.Title("metrics", $"call throughput with metrics off vs on: {callers} callers over {grainCount} grains, " +
            $"{warmup.TotalSeconds:0.#} s warm-up per variant, then {rounds} rounds of {window.TotalSeconds:0.#} s windows (off, listener only, exporter)");
        await using var sqlite = await BenchmarkStore.OpenAsync("sqlite");
        await using var silo = await BenchmarkSilo.StartAsync((await sqlite.CreateDatabaseAsync("metrics")).Provider);
        var grains = await new CallSetup(callers, grainCount, warmup, window, rounds).ReferencesAsync(silo);
        await using var load = new CallLoad(callers, (caller, n) => grains[CallLoad.Pick(caller, n, grainCount)].Ping((int)n));

        // Warm-up runs every variant, so each recording path is compiled at full tier before anything is counted.
        foreach (var variant in new bool?[] { null, false, true })
        {
            await MeasureAsync(load, variant, warmup);
        }
        var table = new ResultTable("round", "metrics off", "listener only", "exporter", "listener/off", "exporter/off");
        var off = new List<double>();
        var bare = new List<double>();
        var on = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            off.Add(await MeasureAsync(load, null, window));
            bare.Add(await MeasureAsync(load, false, window));
            on.Add(await MeasureAsync(load, true, window));
            table.Add(round.ToString(CultureInfo.InvariantCulture), Report.Rate(off[^1]), Report.Rate(bare[^1]), Report.Rate(on[^1]),
                Report.Ratio(bare[^1] / off[^1]), Report.Ratio(on[^1] / off[^1]));
        }
        var bareRatio = Statistics.Median([.. bare.Select((b, i) => b / off[i])]);
        var onRatio = Statistics.Median([.. on.Select((o, i) => o / off[i])]);
        table.Add("median", Report.Rate(Statistics.Median(off)), Report.Rate(Statistics.Median(bare)), Report.Rate(Statistics.Median(on)),
            Report.Ratio(bareRatio), Report.Ratio(onRatio));
        table.Print();
        Report.Line("ratios in the median row are the medians of the per-round ratios");
        Report.Line($"throughput lost with the exporter listening: {(1 - onRatio) * 100:0.0}%; " +
            $"with a listener whose callbacks do nothing (the runtime's own recording): {(1 - bareRatio) * 100:0.0}%");
        Report.Target("≤ 3% lost with metrics on", 1 - onRatio <= TargetOverhead);
    }

    /// <summary>Calls per second with no listener (null), a counting-only listener (false) or the exporter (true).</summary>
    private static async Task<double> MeasureAsync(CallLoad load, bool? aggregate, TimeSpan window)
    {
        using var listener = aggregate is { } enabled ? new RuntimeMetricsExporter(enabled) : null;
        await Task.Delay(Settle);
        return await load.MeasureAsync(window);
    }
}
