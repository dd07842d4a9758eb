using System.Globalization;
using PowerService.Api.Security;
using PowerService.LoadTests.Grains;
using PowerService.LoadTests.Harness;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>What watching the runtime monitor costs the silo: the <c>calls</c> benchmark's grain-call load on the
/// silo of the hosted API, measured in many short windows with no one watching and with one operator connected to
/// <c>/hubs/monitor</c> receiving <c>stats</c> once a second (the monitor page's data source). The callers run
/// without a break for the whole benchmark, and the windows are interleaved in pairs (closed-open, then open-closed),
/// so a change of machine load or of the thread pool's mode falls on both sides alike; each pair gives one ratio and
/// the median ratio, with its spread, is the figure. CPU per call is measured in every window as well.</summary>
internal static class MonitorBenchmark
{
    public const double TargetLoss = 0.03;

    public static async Task RunAsync(CommandLine args)
    {
        var callers = args.Int("callers", 512);
        var grainCount = args.Int("grains", 1_000);
        var warmup = args.Seconds("warmup", 5);
        var window = args.Seconds("measure", 2);
        var pairs = args.Int("rounds", 20);
        Report.Title("monitor", $"grain-call throughput with the monitor feed closed and open: {callers} callers over {grainCount} grains, " +
            $"{warmup.TotalSeconds:0.#} s warm-up, then {pairs} pairs of {window.TotalSeconds:0.#} s windows (closed/open, order alternating), callers never stopped");
        await using var host = await ApiHost.StartAsync([new BenchmarkUser("operator-0", Roles.Operator)]);
        var token = await host.TokenAsync("operator-0");
        var grains = Enumerable.Range(0, grainCount).Select(i => host.Silo.GetGrain<IPingGrain>($"ping-{i}")).ToArray();
        if (await grains[0].Ping(41) != 42)
        {
            throw new InvalidOperationException("Ping(41) did not answer 42.");
        }

        await using var load = new CallLoad(callers, (caller, n) => grains[CallLoad.Pick(caller, n, grainCount)].Ping((int)n));
        await Task.Delay(warmup);
        var closed = new List<(double PerSecond, double CpuUs)>();
        var open = new List<(double PerSecond, double CpuUs)>();
        var stats = 0;
        for (var pair = 0; pair < pairs; pair++)
        {
            if (pair % 2 == 0)
            {
                closed.Add(await load.MeasureWithCpuAsync(window));
                open.Add(await MeasureOpenAsync(host, token, load, window, () => Interlocked.Increment(ref stats)));
            }
            else
            {
                open.Add(await MeasureOpenAsync(host, token, load, window, () => Interlocked.Increment(ref stats)));
                closed.Add(await load.MeasureWithCpuAsync(window));
            }
        }

        var ratios = closed.Zip(open, (c, o) => o.PerSecond / c.PerSecond).Order().ToArray();
        var cpuRatios = closed.Zip(open, (c, o) => o.CpuUs / c.CpuUs).Order().ToArray();
        var table = new ResultTable("measure", "monitor closed", "monitor open", "open/closed (median of pairs)", "pairs' ratios: p25 – p75 (min – max)");
        table.Add(
            "calls/s",
            Report.Rate(Statistics.Median(closed.Select(c => c.PerSecond).ToList())),
            Report.Rate(Statistics.Median(open.Select(c => c.PerSecond).ToList())),
            Report.Ratio(Statistics.Percentile(ratios, 0.5)),
            Spread(ratios));
        table.Add(
            "CPU per call",
            Micros(Statistics.Median(closed.Select(c => c.CpuUs).ToList())),
            Micros(Statistics.Median(open.Select(c => c.CpuUs).ToList())),
            Report.Ratio(Statistics.Percentile(cpuRatios, 0.5)),
            Spread(cpuRatios));
        table.Print();
        Report.Line(string.Create(CultureInfo.InvariantCulture,
            $"single windows ranged {closed.Min(c => c.PerSecond) / 1e6:0.00}–{closed.Max(c => c.PerSecond) / 1e6:0.00} M calls/s closed, " +
            $"{open.Min(c => c.PerSecond) / 1e6:0.00}–{open.Max(c => c.PerSecond) / 1e6:0.00} M calls/s open; {stats} stats messages received while open"));
        var loss = 1 - Statistics.Percentile(ratios, 0.5);
        Report.Line($"throughput lost with the monitor open: {loss * 100:0.0} % (median of {pairs} pairs); CPU per call {(Statistics.Percentile(cpuRatios, 0.5) - 1) * 100:+0.0;-0.0} %");
        // A median inside the target says nothing when the pairs' middle half spans more than the target either side.
        var resolved = Statistics.Percentile(ratios, 0.75) - Statistics.Percentile(ratios, 0.25) <= 2 * TargetLoss;
        if (!resolved)
        {
            Report.Line($"not resolved: the pairs' middle half spans more than ±{TargetLoss * 100:0} % (machine noise); the CPU per call is the steadier figure");
        }
        Report.Target($"≤ {TargetLoss * 100:0} % throughput lost with the monitor open, resolved by the spread", resolved && loss <= TargetLoss);
    }

    /// <summary>Connects an operator, waits for the first <c>stats</c> (the feed's sampler is then listening), measures
    /// one window, and disconnects; then waits for the feed's next tick to drop the sampler.</summary>
    private static async Task<(double PerSecond, double CpuUs)> MeasureOpenAsync(ApiHost host, string token, CallLoad load, TimeSpan window, Action received)
    {
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var monitor = await HubClient.ConnectAsync(new Uri(host.Address, "/hubs/monitor"), token, message =>
        {
            if (message.Span.IndexOf("\"target\":\"stats\""u8) >= 0)
            {
                received();
                listening.TrySetResult();
            }
        });
        (double, double) measured;
        await using (monitor)
        {
            await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
            measured = await load.MeasureWithCpuAsync(window);
        }
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        return measured;
    }

    private static string Spread(double[] ascending) => string.Create(CultureInfo.InvariantCulture,
        $"{Statistics.Percentile(ascending, 0.25):0.00} – {Statistics.Percentile(ascending, 0.75):0.00} ({ascending[0]:0.00} – {ascending[^1]:0.00})");

    private static string Micros(double us) => string.Create(CultureInfo.InvariantCulture, $"{us:0.000} µs");
}
