using System.Diagnostics;
using PowerService.Grains.Crews;
using PowerService.Grains.Dispatch;
using PowerService.Grains.WorkOrders;
using PowerService.LoadTests.Harness;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>Storm-mode dispatch quality: a generated backlog of 1,000 fault orders and 200 crews of capacity 5. The
/// storm plan (<see cref="StormPlanner"/>, what the dispatch grain runs every batch) is compared, by total travel, with
/// the optimal travel-only assignment from an exact Hungarian solve over all 1,000 × 1,000 order-slot pairs, and with
/// first-come-first-served (each order in arrival order to its best crew, as outside storm mode).</summary>
internal static class StormBenchmark
{
    public const double TargetRatio = 1.10;

    public static Task RunAsync(CommandLine args)
    {
        var orderCount = args.Int("orders", 1_000);
        var crewCount = args.Int("crews", 200);
        var rounds = args.Int("rounds", 3);
        Report.Title("storm", $"batch assignment quality, {orderCount:N0} orders, {crewCount:N0} crews x 5 slots, {rounds} generated regions");

        var options = new DispatchOptions();
        var scoring = new DispatchScoring(options);
        var planner = new StormPlanner(scoring);
        var now = DateTimeOffset.UtcNow;
        var table = new ResultTable("region (seed)", "optimal travel", "storm travel", "storm ratio", "FCFS ratio", "late min: opt / storm / FCFS", "CPU: exact / storm / FCFS");
        var ratios = new List<double>();
        for (var seed = 1; seed <= rounds; seed++)
        {
            var region = new DispatchRegion(seed);
            var crews = Enumerable.Range(0, crewCount).Select(i => region.Crew(i, now, CrewSkill.LowVoltageRepair, load: 0)).ToList();
            var hotSpots = Enumerable.Range(0, 4).Select(_ => region.RandomPoint()).ToList();
            var orders = Enumerable.Range(0, orderCount)
                .Select(i => region.Order($"order-{i}", region.OrderPoint(hotSpots), now, WorkOrderKind.FaultRepair))
                .ToList();
            var travel = orders.Select(o => crews.Select(c => scoring.TravelMinutes(c.Location, o.Location)).ToArray()).ToArray();

            var (optimal, exactTime) = Timed(() => TravelOptimal(travel, crews));
            var batchCrews = crews.Select(c => new BatchCrew(c.CrewId, c.Location, DispatchScoring.SkillMask(c.Skills), c.Load, c.Capacity)).ToList();
            var (storm, stormTime) = Timed(() => planner.Plan(orders, batchCrews, now));
            var (fcfs, fcfsTime) = Timed(() => FirstComeFirstServed(scoring, orders, crews, travel, now));

            var best = Evaluate(optimal, orders, travel, options, now);
            var planned = Evaluate(storm, orders, travel, options, now);
            var greedy = Evaluate(fcfs, orders, travel, options, now);
            ratios.Add(planned.Travel / best.Travel);
            table.Add(
                seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{Report.Number(best.Travel)} min",
                $"{Report.Number(planned.Travel)} min",
                Report.Ratio(planned.Travel / best.Travel),
                Report.Ratio(greedy.Travel / best.Travel),
                $"{Report.Number(best.Late)} / {Report.Number(planned.Late)} / {Report.Number(greedy.Late)}",
                $"{Report.Ms(exactTime)} / {Report.Ms(stormTime)} / {Report.Ms(fcfsTime)}");
            if (planned.Assigned != orderCount)
            {
                Report.Line($"seed {seed}: storm plan left {orderCount - planned.Assigned} orders unassigned");
            }
        }
        table.Print();
        Report.Line("late min: minutes past the promised arrival summed over orders, each crew taking its orders earliest-due first,");
        Report.Line($"  {options.LoadPenaltyMinutes:0} min on site per order ahead; the same yardstick for all three plans");

        var wall = Stopwatch.GetTimestamp();
        var (large, largeTime) = Timed(() => LargeRegionBatch(planner, now));
        var largeWall = Stopwatch.GetElapsedTime(wall).TotalMilliseconds;
        Report.Line($"storm batch with 2,000 crews (10,000 slots) and 1,000 orders: {largeTime:N0} ms CPU ({largeWall:N0} ms wall) to plan, {large:N0} orders assigned");
        Report.Target($"storm travel <= {TargetRatio:0.00} x optimal (worst of {rounds})", ratios.Max() <= TargetRatio);
        return Task.CompletedTask;
    }

    /// <summary>Least total travel over all order-slot pairs: exact Hungarian, no pruning, no wait or SLA terms.</summary>
    private static int[] TravelOptimal(double[][] travel, IReadOnlyList<CrewSnapshot> crews)
    {
        var slotCrew = crews.SelectMany((c, index) => Enumerable.Repeat(index, c.Capacity - c.Load)).ToArray();
        var cost = new double[travel.Length * slotCrew.Length];
        for (var i = 0; i < travel.Length; i++)
        {
            for (var j = 0; j < slotCrew.Length; j++)
            {
                cost[(i * slotCrew.Length) + j] = travel[i][slotCrew[j]];
            }
        }
        return [.. BatchAssignment.Solve(cost, travel.Length, slotCrew.Length).Select(j => j < 0 ? -1 : slotCrew[j])];
    }

    private static int[] FirstComeFirstServed(DispatchScoring scoring, IReadOnlyList<DispatchRequest> orders, IReadOnlyList<CrewSnapshot> crews, double[][] travel, DateTimeOffset now)
    {
        var load = crews.Select(c => c.Load).ToArray();
        var chosen = new int[orders.Count];
        for (var i = 0; i < orders.Count; i++)
        {
            var best = -1;
            var bestScore = double.PositiveInfinity;
            for (var c = 0; c < crews.Count; c++)
            {
                if (load[c] >= crews[c].Capacity)
                {
                    continue;
                }
                var score = scoring.Cost(travel[i][c], load[c], orders[i], now);
                if (score < bestScore)
                {
                    (best, bestScore) = (c, score);
                }
            }
            chosen[i] = best;
            if (best >= 0)
            {
                load[best]++;
            }
        }
        return chosen;
    }

    private static Outcome Evaluate(int[] chosen, IReadOnlyList<DispatchRequest> orders, double[][] travel, DispatchOptions options, DateTimeOffset now)
    {
        var travelTotal = 0.0;
        var late = 0.0;
        foreach (var crewOrders in Enumerable.Range(0, orders.Count).Where(i => chosen[i] >= 0).GroupBy(i => chosen[i]))
        {
            var position = 0;
            foreach (var i in crewOrders.OrderBy(i => orders[i].ArrivalDueAt))
            {
                var minutes = travel[i][crewOrders.Key];
                travelTotal += minutes;
                var arrival = now.AddMinutes(minutes + (position++ * options.LoadPenaltyMinutes));
                late += Math.Max(0, (arrival - orders[i].ArrivalDueAt).TotalMinutes);
            }
        }
        return new Outcome(travelTotal, late, chosen.Count(c => c >= 0));
    }

    private static int LargeRegionBatch(StormPlanner planner, DateTimeOffset now)
    {
        var region = new DispatchRegion(seed: 99);
        var crews = Enumerable.Range(0, 2_000)
            .Select(i => region.Crew(i, now, CrewSkill.LowVoltageRepair, load: 0))
            .Select(c => new BatchCrew(c.CrewId, c.Location, DispatchScoring.SkillMask(c.Skills), c.Load, c.Capacity))
            .ToList();
        var hotSpots = Enumerable.Range(0, 4).Select(_ => region.RandomPoint()).ToList();
        var orders = Enumerable.Range(0, 1_000).Select(i => region.Order($"o-{i}", region.OrderPoint(hotSpots), now, WorkOrderKind.FaultRepair)).ToList();
        return planner.Plan(orders, crews, now).Count(c => c >= 0);
    }

    /// <summary>The work's result and its CPU time: the solvers are single-threaded and the machine is shared, so
    /// process CPU time is steadier than wall time (which the table also shows for the storm plan's whole run).</summary>
    private static (T Result, double Ms) Timed<T>(Func<T> work)
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var result = work();
        process.Refresh();
        return (result, (process.TotalProcessorTime - cpu).TotalMilliseconds);
    }

    private sealed record Outcome(double Travel, double Late, int Assigned);
}
