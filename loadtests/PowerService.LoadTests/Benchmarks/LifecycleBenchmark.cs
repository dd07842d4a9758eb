using System.Globalization;
using PowerService.Grains;
using PowerService.Grains.Crews;
using PowerService.Grains.Hosting;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.LoadTests.Grains;
using PowerService.LoadTests.Harness;
using PowerService.Runtime;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>Fault orders through the whole lifecycle in one silo: create (dispatch picks a crew) → accept → en route →
/// on site → resolve (callback scheduled) → callback satisfied → closed, many orders in flight across several regions.
/// Against it, in the same silo, the same number of plain state writes of the same size through the group commit: the
/// store's ceiling for that many writes.</summary>
internal static class LifecycleBenchmark
{
    public const double Target = 5_000;

    public const int Regions = 8;
    private const int WarmupOrders = 2_000;
    private static readonly GeoPoint City = new(30.25, 120.15);

    public static async Task RunAsync(CommandLine args)
    {
        var count = args.Int("count", 50_000);
        var concurrency = args.Int("concurrency", 1_000);
        var rounds = args.Int("rounds", 1);
        var crewsPerRegion = args.Int("crews", 128);
        string[] kinds = args.Text("store") is { } only ? [only] : ["sqlite", "postgres"];
        Report.Title("lifecycle", $"{count:N0} fault orders through create → dispatch → accept → en route → on site → resolve → callback → closed, " +
            $"{concurrency:N0} in flight, {Regions} regions × {crewsPerRegion} crews, {rounds} round(s)");
        await BenchmarkStore.ForEachAsync(kinds, store => RunOnStoreAsync(store, count, concurrency, rounds, crewsPerRegion));
    }

    private static async Task RunOnStoreAsync(BenchmarkStore store, int count, int concurrency, int rounds, int crewsPerRegion)
    {
        Report.Line("");
        Report.Line($"{store.Kind}: {store.Settings}");
        var table = new ResultTable("round", "orders/s", "state writes/s", "journal events/s", "plain writes/s (baseline)", "writes ratio");
        var rates = new List<double>();
        var notes = new List<string>();
        for (var round = 1; round <= rounds; round++)
        {
            var database = await store.CreateDatabaseAsync($"lifecycle{round}");
            await using var silo = await BenchmarkSilo.StartAsync(database.Provider, o => o.AddGrainsFrom(GrainsAssembly.Value), s => s.AddWorkflow());
            await RegisterCrewsAsync(silo, crewsPerRegion);
            await BoundedLoad.RunAsync(WarmupOrders, concurrency, i => RunOrderAsync(silo, $"warm-{round}-{i}", i), TimeSpan.FromMinutes(5));

            GC.Collect();
            var cpu = CpuUsage.Start();
            using var probe = new StorageBatchProbe();
            var (completed, elapsed) = await BoundedLoad.RunAsync(count, concurrency, i => RunOrderAsync(silo, $"o-{round}-{i}", i), TimeSpan.FromMinutes(10));
            var writes = probe.Writes;
            var cpuUsed = cpu.Describe();
            var batches = probe.Describe();

            var sample = silo.Grain<IWorkOrderGrain>($"o-{round}-{completed / 2}");
            var eventsPerOrder = (await sample.GetHistory()).Count;
            var closed = (await sample.Get())?.State == WorkOrderState.Closed;
            var stored = await database.Provider.ReadStateAsync(new GrainId("WorkOrderGrain", $"o-{round}-{completed / 2}"));
            var stateBytes = stored?.Payload.Length ?? 1024;

            var baseline = await PlainWritesAsync(silo, (int)writes, concurrency, stateBytes);
            var orders = completed / elapsed.TotalSeconds;
            var writeRate = writes / elapsed.TotalSeconds;
            rates.Add(orders);
            table.Add(
                round.ToString(CultureInfo.InvariantCulture), Report.Rate(orders), Report.Rate(writeRate),
                Report.Rate(completed * eventsPerOrder / elapsed.TotalSeconds), Report.Rate(baseline), Report.Ratio(writeRate / baseline));
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"round {round}: {completed:N0} orders in {elapsed.TotalSeconds:0.0} s; {writes / (double)completed:0.0} state writes and {eventsPerOrder} journal events per order " +
                $"(order state {stateBytes:N0} bytes); sample order closed: {closed}; {batches}; {cpuUsed}"));
        }
        table.Print();
        notes.ForEach(Report.Line);
        Report.Line("baseline: the same number of state writes, of the order state's size, by plain grains through the same silo's group commit, no journal events");
        Report.Target("≥ 5,000 orders/s through the full lifecycle", Statistics.Median(rates) >= Target);
    }

    private static async Task RunOrderAsync(BenchmarkSilo silo, string id, int index)
    {
        var order = silo.Grain<IWorkOrderGrain>(id);
        var region = RegionName(index % Regions);
        var view = await order.Create(new NewWorkOrder(
            WorkOrderKind.FaultRepair, IntakeChannel.Hotline95598, "agent:bench", "No power", Region: region, Location: Near(index), AreaClass: AreaClass.Urban));
        var crew = view.CrewId ?? throw new InvalidOperationException($"Dispatch found no crew for {id} in {region}.");
        var actor = "crew:" + crew;
        await order.Apply(new WorkOrderCommand(WorkOrderAction.Accept, actor, CrewId: crew));
        await order.Apply(new WorkOrderCommand(WorkOrderAction.StartTravel, actor, CrewId: crew));
        await order.Apply(new WorkOrderCommand(WorkOrderAction.Arrive, actor, CrewId: crew));
        await order.Apply(new WorkOrderCommand(WorkOrderAction.Resolve, actor, CrewId: crew));
        await order.RecordCallback(new CallbackAttempt(CallbackOutcome.Satisfied, "agent:bench"));
    }

    public static async Task RegisterCrewsAsync(BenchmarkSilo silo, int crewsPerRegion)
    {
        var now = silo.Silo.TimeProvider.GetUtcNow();
        var shifts = new[] { new Shift(now.AddHours(-1), now.AddDays(1)) };
        var registrations = new List<Task>();
        for (var region = 0; region < Regions; region++)
        {
            for (var crew = 0; crew < crewsPerRegion; crew++)
            {
                var profile = new CrewProfile($"crew {region}-{crew}", RegionName(region), [CrewSkill.LowVoltageRepair], 50, Near(crew * 7919), shifts);
                registrations.Add(silo.Grain<IFieldCrewGrain>($"crew-{region}-{crew}").Register(profile, "ops:bench"));
            }
        }
        await Task.WhenAll(registrations);
    }

    private static async Task<double> PlainWritesAsync(BenchmarkSilo silo, int writes, int concurrency, int stateBytes)
    {
        var data = new string('x', Math.Max(1, stateBytes - 30));
        var grains = Enumerable.Range(0, concurrency).Select(i => silo.Grain<IBlobGrain>($"baseline-{i}")).ToArray();
        await BoundedLoad.RunAsync(concurrency, concurrency, i => grains[i].Write(data), TimeSpan.FromMinutes(1));
        var (completed, elapsed) = await BoundedLoad.RunAsync(writes, concurrency, i => grains[i % concurrency].Write(data), TimeSpan.FromMinutes(10));
        return completed / elapsed.TotalSeconds;
    }

    public static string RegionName(int region) => "region-" + region.ToString(CultureInfo.InvariantCulture);

    /// <summary>A point within about 10 km of the city centre, spread by <paramref name="seed"/>.</summary>
    public static GeoPoint Near(int seed) =>
        new(City.Latitude + ((seed * 37 % 200) - 100) * 0.0009, City.Longitude + ((seed * 53 % 200) - 100) * 0.001);
}
