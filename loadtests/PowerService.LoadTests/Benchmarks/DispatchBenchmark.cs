using System.Diagnostics;
using PowerService.Grains;
using PowerService.Grains.Dispatch;
using PowerService.Grains.Hosting;
using PowerService.LoadTests.Harness;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>Dispatch decision latency: 2,000 crews in one region, one order at a time through
/// <see cref="IDispatchGrain.RequestCrew"/> (then withdrawn, so the roster's load stays as generated), timed by the
/// caller. Baseline: the same scoring loop over the same crews called directly, without the grain.</summary>
internal static class DispatchBenchmark
{
    public const double TargetP99Ms = 5;

    public static async Task RunAsync(CommandLine args)
    {
        var crews = args.Int("crews", 2_000);
        var count = args.Int("count", 20_000);
        var callers = args.Int("callers", 4);
        Report.Title("dispatch", $"decision latency, {crews:N0} crews in one region, {count:N0} decisions one at a time, then {callers} callers at once");

        var now = DateTimeOffset.UtcNow;
        var region = new DispatchRegion(seed: 7);
        var roster = Enumerable.Range(0, crews).Select(i => region.Crew(i, now)).ToList();
        var hotSpots = Enumerable.Range(0, 4).Select(_ => region.RandomPoint()).ToList();
        var orders = Enumerable.Range(0, count).Select(i => region.Order($"order-{i}", region.OrderPoint(hotSpots), now)).ToList();

        var scoring = new DispatchScoring(new DispatchOptions());
        var direct = MeasureDirect(scoring, roster, orders, now);

        await using var sqlite = await BenchmarkStore.OpenAsync("sqlite");
        var silo = await BenchmarkSilo.StartAsync(
            (await sqlite.CreateDatabaseAsync("dispatch")).Provider,
            options => options.AddGrainsFrom(GrainsAssembly.Value),
            services => services.AddWorkflow());
        await using (silo)
        {
            var dispatch = silo.Grain<IDispatchGrain>("bench");
            foreach (var crew in roster)
            {
                await dispatch.UpdateCrew(crew);
            }
            await DecideAsync(dispatch, orders.Take(2_000).ToList(), callers: 1);
            var sequential = await DecideAsync(dispatch, orders, callers: 1);
            var concurrent = await DecideAsync(dispatch, orders, callers);

            var table = new ResultTable("decision latency", "grain, 1 caller", $"grain, {callers} callers", "direct scoring loop", "grain(1)/direct");
            foreach (var (name, p) in new[] { ("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999) })
            {
                var g = Statistics.Percentile(sequential.Latencies, p);
                var d = Statistics.Percentile(direct.Latencies, p);
                table.Add(name, Ms(g), Ms(Statistics.Percentile(concurrent.Latencies, p)), Ms(d), Report.Ratio(g / d));
            }
            table.Add("max", Ms(sequential.Latencies[^1]), Ms(concurrent.Latencies[^1]), Ms(direct.Latencies[^1]), "");
            table.Add("decisions/s", Report.Rate(count / sequential.Elapsed.TotalSeconds), Report.Rate(count / concurrent.Elapsed.TotalSeconds), Report.Rate(count / direct.Elapsed.TotalSeconds), "");
            table.Print();
            Report.Line($"orders given a crew: {sequential.Decided:N0} of {count:N0} (any others had no eligible crew: queued, then withdrawn)");
            Report.Target($"decision p99 <= {TargetP99Ms} ms with {crews:N0} crews", Statistics.Percentile(sequential.Latencies, 0.99) <= TargetP99Ms);
        }
    }

    private static async Task<Run> DecideAsync(IDispatchGrain dispatch, IReadOnlyList<DispatchRequest> orders, int callers)
    {
        var latencies = new double[orders.Count];
        var next = -1;
        var decided = 0;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < orders.Count)
            {
                var asked = Stopwatch.GetTimestamp();
                var decision = await dispatch.RequestCrew(orders[i]);
                latencies[i] = Stopwatch.GetElapsedTime(asked).TotalMilliseconds;
                if (decision is not null)
                {
                    Interlocked.Increment(ref decided);
                }
                await dispatch.Withdraw(orders[i].OrderId);
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(started);
        Array.Sort(latencies);
        return new Run(latencies, elapsed, decided);
    }

    /// <summary>The grain's decision without the grain: the same filter, bound, score and best, over the same snapshots.</summary>
    private static Run MeasureDirect(DispatchScoring scoring, IReadOnlyList<CrewSnapshot> roster, IReadOnlyList<DispatchRequest> orders, DateTimeOffset now)
    {
        var masks = roster.Select(c => DispatchScoring.SkillMask(c.Skills)).ToArray();
        var latencies = new double[orders.Count];
        var decided = 0;
        var started = Stopwatch.GetTimestamp();
        for (var round = 0; round < 2; round++)
        {
            decided = 0;
            started = Stopwatch.GetTimestamp();
            for (var i = 0; i < orders.Count; i++)
            {
                var asked = Stopwatch.GetTimestamp();
                var order = orders[i];
                var skill = 1 << (int)DispatchScoring.SkillForKind(order.Kind);
                var urgency = DispatchScoring.UrgencyOf(order, now);
                var best = -1;
                var bestScore = double.PositiveInfinity;
                for (var c = 0; c < roster.Count; c++)
                {
                    var crew = roster[c];
                    if ((masks[c] & skill) == 0 || crew.Load >= crew.Capacity || !DispatchScoring.OnShift(crew.Shifts, now)
                        || scoring.Cost(scoring.TravelMinutesAtLeast(crew.Location, order.Location), crew.Load, urgency) >= bestScore)
                    {
                        continue;
                    }
                    var score = scoring.Cost(scoring.TravelMinutes(crew.Location, order.Location), crew.Load, urgency);
                    if (score < bestScore)
                    {
                        (best, bestScore) = (c, score);
                    }
                }
                latencies[i] = Stopwatch.GetElapsedTime(asked).TotalMilliseconds;
                decided += best >= 0 ? 1 : 0;
            }
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        Array.Sort(latencies);
        return new Run(latencies, elapsed, decided);
    }

    // Decisions take a tenth of a millisecond: the shared one-decimal format would hide them.
    private static string Ms(double value) => value.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) + " ms";

    private sealed record Run(double[] Latencies, TimeSpan Elapsed, int Decided);
}
