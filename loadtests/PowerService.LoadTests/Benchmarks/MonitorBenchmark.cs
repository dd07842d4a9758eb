using System.Globalization;
using PowerService.Api.Security;
using PowerService.LoadTests.Grains;
using PowerService.LoadTests.Harness;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>What watching the runtime monitor costs the silo: the <c>calls</c> benchmark's grain-call load on the
/// silo of the hosted API, in alternating rounds with no one watching and with one operator connected to
/// <c>/hubs/monitor</c> receiving <c>stats</c> once a second (the monitor page's data source).</summary>
internal static class MonitorBenchmark
{
    public const double TargetLoss = 0.03;

    public static async Task RunAsync(CommandLine args)
    {
        var setup = CallSetup.From(args) with { Rounds = args.Int("rounds", 5) };
        Report.Title("monitor", $"grain-call throughput with the monitor feed closed and open: {setup.Describe()}");
        await using var host = await ApiHost.StartAsync([new BenchmarkUser("operator-0", Roles.Operator)]);
        var token = await host.TokenAsync("operator-0");
        var grains = Enumerable.Range(0, setup.Grains).Select(i => host.Silo.GetGrain<IPingGrain>($"ping-{i}")).ToArray();
        if (await grains[0].Ping(41) != 42)
        {
            throw new InvalidOperationException("Ping(41) did not answer 42.");
        }
        Task Call(int caller, long n) => grains[CallLoad.Pick(caller, n, setup.Grains)].Ping((int)n);

        var table = new ResultTable("round", "monitor closed", "monitor open", "open/closed", "stats received");
        var closed = new List<double>();
        var open = new List<double>();
        for (var round = 1; round <= setup.Rounds; round++)
        {
            // Odd rounds measure closed first, even rounds open first, so neither side always follows the other.
            var stats = 0;
            if (round % 2 == 1)
            {
                closed.Add(await setup.MeasureAsync(Call));
            }
            var monitor = await HubClient.ConnectAsync(new Uri(host.Address, "/hubs/monitor"), token, message =>
            {
                if (message.Span.IndexOf("\"target\":\"stats\""u8) >= 0)
                {
                    Interlocked.Increment(ref stats);
                }
            });
            await using (monitor)
            {
                open.Add(await setup.MeasureAsync(Call));
            }
            // The feed drops its sampler on its next tick once no one watches; the closed round must not see it.
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            if (round % 2 == 0)
            {
                closed.Add(await setup.MeasureAsync(Call));
            }
            table.Add(round.ToString(CultureInfo.InvariantCulture), Report.Rate(closed[^1]), Report.Rate(open[^1]), Report.Ratio(open[^1] / closed[^1]), Report.Number(stats));
        }
        var ratio = Statistics.Median(open) / Statistics.Median(closed);
        table.Add("median", Report.Rate(Statistics.Median(closed)), Report.Rate(Statistics.Median(open)), Report.Ratio(ratio), "");
        table.Print();
        Report.Line($"throughput lost with the monitor open: {(1 - ratio) * 100:0.0} % (median of rounds)");
        Report.Target($"≤ {TargetLoss * 100:0} % throughput lost with the monitor open", 1 - ratio <= TargetLoss);
    }
}
