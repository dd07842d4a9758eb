using Microsoft.Data.Sqlite;
using PowerService.Grains;
using PowerService.Grains.Ami;
using PowerService.Grains.Energy;
using PowerService.Grains.Hosting;
using PowerService.Grains.Topology.Import;
using PowerService.LoadTests.Harness;
using PowerService.Runtime;
using PowerService.Runtime.Storage;
using PowerService.Storage.Sqlite;
using PowerService.TestSupport.Topology;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>The live heap an area's energy grain holds once it has read its stored state, per area and per meter, with
/// the stored state's own size as the same run's baseline: meters reading every 15 minutes keep every area's energy
/// grain active, so this is what line loss costs in memory per meter (the endurance pass found 35 KB per 50-meter
/// area, 2.7 times the stored state). A generated topology is imported, every meter sends one interval reading, the
/// silo restarts over the same database, and the live heap is read before and after every area's grain is activated.</summary>
internal static class EnergyMemoryBenchmark
{
    public static async Task RunAsync(CommandLine args)
    {
        var size = new TopologySampleSize(args.Int("customers", 200_000));
        Report.Title("energy-memory", $"live heap of {size.TransformerAreas:N0} active area energy grains ({size.Meters / size.TransformerAreas:N0} meters each and a supply meter) after a restart");
        var folder = Directory.CreateTempSubdirectory("powerservice-energy-").FullName;
        try
        {
            TopologySample.WriteToFolder(size, folder);
            await using var store = await BenchmarkStore.OpenAsync("sqlite");
            var database = await store.CreateDatabaseAsync("energy");
            var areas = MetersByArea(Path.Combine(folder, "meters.csv"));
            await using (var silo = await BenchmarkSilo.StartAsync(database.Provider, o => o.AddGrainsFrom(GrainsAssembly.Value), s => s.AddWorkflow(configure: w => w.Notices.Folder = Path.Combine(folder, "notices"))))
            {
                await SampleImport.ImportAsync(silo.Silo, folder);
                // One interval reading per meter, the interval that ended last.
                var quarter = TimeSpan.FromMinutes(15).Ticks;
                var end = new DateTimeOffset(DateTime.UtcNow.Ticks / quarter * quarter, TimeSpan.Zero);
                await BoundedLoad.RunAsync(areas.Count, 16, async a =>
                {
                    var (area, meters) = areas[a];
                    await silo.Grain<IAreaEnergyGrain>(area).RecordReadings(
                        [.. meters.Select(m => new MeterEvent(m, $"{m}-r1", MeterEventType.Reading, end, Kwh: 0.25, Voltage: 229.5, LoadKw: 1.0))]);
                }, TimeSpan.FromMinutes(10));
            }

            // The restart: every grain reads its state back from the store, as after a deactivation or a crash.
            IStorageProvider provider = new SqliteStorageProvider(new SqliteStorageOptions { ConnectionString = database.ConnectionString });
            var stored = 0L;
            foreach (var (area, _) in areas)
            {
                stored += (await provider.ReadStateAsync(new GrainId("AreaEnergy", area)))?.Payload.Length ?? 0;
            }
            await using var after = await BenchmarkSilo.StartAsync(provider, o => o.AddGrainsFrom(GrainsAssembly.Value), s => s.AddWorkflow(configure: w => w.Notices.Folder = Path.Combine(folder, "notices")));
            var before = Heap.LiveBytes();
            var reporting = 0L;
            await BoundedLoad.RunAsync(areas.Count, 16, async a => Interlocked.Add(ref reporting, (await after.Grain<IAreaEnergyGrain>(areas[a].Area).Get()).OpenPeriods.Sum(p => p.ReportingMeters)), TimeSpan.FromMinutes(10));
            var active = Heap.LiveBytes();

            var meters = areas.Sum(a => a.Meters.Count);
            var perArea = (active - before) / (double)areas.Count;
            var storedPerArea = stored / (double)areas.Count;
            var table = new ResultTable("per area energy grain", "live heap", "stored state (baseline)", "ratio");
            table.Add("bytes per area", Report.Number(perArea), Report.Number(storedPerArea), Report.Ratio(perArea / storedPerArea));
            table.Add("bytes per meter", Report.Number(perArea * areas.Count / meters), Report.Number(storedPerArea * areas.Count / meters), "");
            table.Print();
            // A supply meter's reading is the area's supply, not a reporting customer meter.
            Report.Line($"{areas.Count:N0} areas active, {meters:N0} meters, {reporting:N0} customer meters reporting in their open periods");
            Report.Target("every customer meter's reading is read back", reporting == meters - areas.Count);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Each area's meters (customer and supply) from the meters file, in area order.</summary>
    private static List<(string Area, List<string> Meters)> MetersByArea(string metersFile)
    {
        var byArea = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(metersFile).Skip(1))
        {
            var cells = line.Split(',');
            if (!byArea.TryGetValue(cells[1], out var meters))
            {
                byArea[cells[1]] = meters = [];
            }
            meters.Add(cells[0]);
        }
        return [.. byArea.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => (a.Key, a.Value))];
    }
}
