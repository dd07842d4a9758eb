using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using PowerService.Grains;
using PowerService.Grains.Hosting;
using PowerService.Grains.Notices;
using PowerService.Grains.Topology.Import;
using PowerService.LoadTests.Harness;
using PowerService.TestSupport.Topology;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>A storm notice: one OutageDetected notice to every customer of every transformer area (1,000,000 customers
/// in 20,000 areas by default), enqueued through <see cref="INoticeOutbox"/> as the outage grain does; then the same
/// notice again (every message already stored); then the time the silo's delivery takes to hand them all to the
/// file-backed channels.</summary>
internal static class NoticesBenchmark
{
    private static readonly ImportKind[] Order =
        [ImportKind.Feeders, ImportKind.Grids, ImportKind.TransformerAreas, ImportKind.Meters, ImportKind.Customers];

    public static async Task RunAsync(CommandLine args)
    {
        var size = new TopologySampleSize(args.Int("customers", 1_000_000));
        string[] kinds = args.Text("store") is { } only ? [only] : ["sqlite", "postgres"];
        Report.Title("notices", $"one outage notice to {size.Customers:N0} customers of {size.TransformerAreas:N0} transformer areas: " +
            "enqueue, enqueue again, deliver to file channels");
        var folder = Directory.CreateTempSubdirectory("powerservice-notices-").FullName;
        try
        {
            TopologySample.WriteToFolder(size, Path.Combine(folder, "topology"));
            await BenchmarkStore.ForEachAsync(kinds, store => RunOnStoreAsync(store, size, folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task RunOnStoreAsync(BenchmarkStore store, TopologySampleSize size, string folder)
    {
        Report.Line("");
        Report.Line($"{store.Kind}: {store.Settings}");
        var database = await store.CreateDatabaseAsync("notices");
        var noticeFolder = Path.Combine(folder, "notices-" + store.Kind);
        long delivered = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == NoticeMetrics.MeterName && instrument.Name == "powerservice.notices.delivered")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref delivered, value));
        listener.Start();

        await using var silo = await BenchmarkSilo.StartAsync(
            database.Provider, options => options.AddGrainsFrom(GrainsAssembly.Value),
            services => services.AddWorkflow(configure: o => o.Notices.Folder = noticeFolder));
        var import = new TopologyImport(silo.Silo);
        foreach (var kind in Order)
        {
            await using var file = File.OpenRead(Path.Combine(folder, "topology", kind.Name() + ".csv"));
            var result = await import.ImportAsync(kind, file, "loadtest");
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"{kind.Name()} failed: {string.Join("; ", result.Errors.Take(5))}");
            }
        }
        var outbox = silo.Silo.Services.GetRequiredService<INoticeOutbox>();
        var areas = Enumerable.Range(1, size.TransformerAreas).Select(i => $"TA-{i:000000}").ToList();
        var now = DateTimeOffset.UtcNow;
        var notice = new OutageNotice(NoticeKind.OutageDetected, "OUT-STORM", 0, now, now, now.AddHours(4), "台风");

        var cpu = CpuUsage.Start();
        var started = Stopwatch.GetTimestamp();
        var added = await outbox.EnqueueAsync(notice, new NoticeAudience(areas));
        var enqueue = Stopwatch.GetElapsedTime(started);
        Report.Line($"enqueue: {added:N0} notices in {enqueue.TotalSeconds:0.0} s = {Report.Rate(added / enqueue.TotalSeconds)} ({cpu.Describe()})");

        started = Stopwatch.GetTimestamp();
        var again = await outbox.EnqueueAsync(notice, new NoticeAudience(areas));
        var repeat = Stopwatch.GetElapsedTime(started);
        Report.Line($"enqueue again: {again:N0} added, {size.Customers:N0} skipped in {repeat.TotalSeconds:0.0} s = {Report.Rate(size.Customers / repeat.TotalSeconds)}");

        // Delivery starts with the first enqueue and shares the store's writer with it; what is left is timed alone.
        var deliveredWhileEnqueueing = Interlocked.Read(ref delivered);
        started = Stopwatch.GetTimestamp();
        while (Interlocked.Read(ref delivered) < added)
        {
            await Task.Delay(50);
        }
        var alone = Stopwatch.GetElapsedTime(started);
        Report.Line($"delivered while enqueueing: {deliveredWhileEnqueueing:N0}; the other {added - deliveredWhileEnqueueing:N0} in " +
            $"{alone.TotalSeconds:0.0} s = {Report.Rate((added - deliveredWhileEnqueueing) / alone.TotalSeconds)} " +
            $"(batches of {new NoticeOptions().DeliveryBatchSize}: claim, append + fsync per channel file, mark)");
    }
}
