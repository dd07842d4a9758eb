using System.Collections.Concurrent;
using System.Diagnostics;
using PowerService.LoadTests.Grains;
using PowerService.LoadTests.Harness;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>A million distinct activations: how fast they are created on first call, and what an idle one weighs on
/// the managed heap. Baseline: the same number of entries added to a ConcurrentDictionary, the least a directory of
/// live objects costs.</summary>
internal static class ActivationsBenchmark
{
    public static readonly TimeSpan TargetElapsed = TimeSpan.FromSeconds(10);
    public const double TargetBytesPerActivation = 1024;

    // Warm-up activations made before the heap baseline, so JIT and first-use allocations are not counted.
    private const int WarmupActivations = 20_000;

    public static async Task RunAsync(CommandLine args)
    {
        var count = args.Int("count", 1_000_000);
        var concurrency = args.Int("concurrency", 2_000);
        Report.Title("activations", $"{count:N0} distinct activations of a field-free stateless grain, {concurrency:N0} calls in flight");

        var (dictionaryElapsed, dictionaryBytes) = MeasureDictionary(count);

        await using var sqlite = await BenchmarkStore.OpenAsync("sqlite");
        var silo = await BenchmarkSilo.StartAsync(
            (await sqlite.CreateDatabaseAsync("activations")).Provider,
            options => options.MaxActivations = Math.Max(count + WarmupActivations, 1) * 2);
        await using (silo)
        {
            await BoundedLoad.RunAsync(WarmupActivations, concurrency, i => silo.Grain<IPingGrain>($"warm-{i}").Ping(i), TimeSpan.FromMinutes(1));
            var before = Heap.LiveBytes();
            var (completed, elapsed) = await BoundedLoad.RunAsync(
                count, concurrency, i => silo.Grain<IPingGrain>($"act-{i}").Ping(i), TimeSpan.FromSeconds(120));
            var after = Heap.LiveBytes();
            var live = silo.Silo.ActivationCount - WarmupActivations;
            var bytesPerActivation = (after - before) / (double)Math.Max(live, 1);

            var table = new ResultTable("measure", "runtime", "ConcurrentDictionary<string, object>", "runtime/baseline");
            table.Add("entries created", Report.Number(completed), Report.Number(count), "");
            table.Add("elapsed", $"{elapsed.TotalSeconds:0.00} s", $"{dictionaryElapsed.TotalSeconds:0.00} s", Report.Ratio(elapsed / dictionaryElapsed));
            table.Add("per second", Report.Rate(completed / elapsed.TotalSeconds), Report.Rate(count / dictionaryElapsed.TotalSeconds), "");
            table.Add("heap bytes per idle entry", Report.Number(bytesPerActivation), Report.Number(dictionaryBytes), Report.Ratio(bytesPerActivation / dictionaryBytes));
            table.Print();
            Report.Line($"live activations after the run: {live:N0} (of {count:N0}); heap {before / 1e6:N0} MB before, {after / 1e6:N0} MB after");
            Report.Target($"{count:N0} activations in < {TargetElapsed.TotalSeconds:0} s", completed == count && elapsed < TargetElapsed);
            Report.Target("< 1 KB heap per idle activation", bytesPerActivation < TargetBytesPerActivation);

            var stopping = Stopwatch.GetTimestamp();
            await silo.Silo.StopAsync();
            Report.Line($"(shutdown deactivated them in {Stopwatch.GetElapsedTime(stopping).TotalSeconds:0.0} s; {silo.Silo.ActivationCount:N0} left)");
        }
    }

    /// <summary>Time to add <paramref name="count"/> keyed objects from all cores, and heap bytes per entry kept.</summary>
    private static (TimeSpan Elapsed, double BytesPerEntry) MeasureDictionary(int count)
    {
        var before = Heap.LiveBytes();
        var started = Stopwatch.GetTimestamp();
        var directory = new ConcurrentDictionary<string, object>();
        Parallel.For(0, count, i => directory.TryAdd($"act-{i}", new object()));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var after = Heap.LiveBytes();
        GC.KeepAlive(directory);
        return (elapsed, (after - before) / (double)count);
    }
}
