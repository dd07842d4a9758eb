using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using PowerService.Grains;
using PowerService.Grains.Crews;
using PowerService.Grains.Hosting;
using PowerService.Grains.Recovery;
using PowerService.Grains.Regions;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.LoadTests.Harness;
using PowerService.Runtime;
using PowerService.Runtime.Storage;
using PowerService.Storage.Sqlite;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>A crash under load and the restart after it. Orders are created, accepted and set en route by the thousand;
/// the database is then copied as committed (SQLite's online backup, while the silo runs: the views' last seconds are
/// not in it) and a new silo starts on the copy. The checkpoint is held at the load's start, so the recovery replays
/// every order of the load — the worst case is a crash a whole checkpoint interval (15 s) of such load after the last
/// checkpoint. Measured: how long the replay takes against how long the load took to make those changes (same run),
/// and that afterwards every order is on its crew's list and in its region's index with its state.</summary>
internal static class RecoveryBenchmark
{
    private const string Database = "recovery";

    public static async Task RunAsync(CommandLine args)
    {
        var count = args.Int("count", 20_000);
        var concurrency = args.Int("concurrency", 1_000);
        var crewsPerRegion = args.Int("crews", 128);
        var regions = LifecycleBenchmark.Regions;
        Report.Title("recovery", $"a crash after {count:N0} orders created → dispatched → accepted → en route ({concurrency:N0} in flight, " +
            $"{regions} regions × {crewsPerRegion} crews), then a restart over the database as committed");
        await using var store = await BenchmarkStore.OpenAsync("sqlite");
        Report.Line($"sqlite: {store.Settings}");
        var database = await store.CreateDatabaseAsync(Database);
        var file = new SqliteConnectionStringBuilder(database.ConnectionString).DataSource;
        var crashed = Path.Combine(Path.GetDirectoryName(file)!, Database + "-after-crash.db");

        TimeSpan load;
        // An hour: the checkpoint stays where the first start put it (the journal's end then, before any order).
        void HoldCheckpoint(WorkflowOptions o) => o.Recovery.CheckpointInterval = TimeSpan.FromHours(1);
        await using (var silo = await BenchmarkSilo.StartAsync(database.Provider, o => o.AddGrainsFrom(GrainsAssembly.Value), s => s.AddWorkflow(configure: HoldCheckpoint)))
        {
            await LifecycleBenchmark.RegisterCrewsAsync(silo, crewsPerRegion);
            var (completed, elapsed) = await BoundedLoad.RunAsync(count, concurrency, i => TakeOrderAsync(silo, $"o-{i}", i), TimeSpan.FromMinutes(10));
            if (completed < count)
            {
                throw new InvalidOperationException($"Only {completed:N0} of {count:N0} orders were taken in the time allowed.");
            }
            load = elapsed;
            using var from = new SqliteConnection(database.ConnectionString);
            using var to = new SqliteConnection($"Data Source={crashed}");
            from.Open();
            to.Open();
            from.BackupDatabase(to); // the crash: what is committed now is all the next silo gets
        }

        IStorageProvider provider = new SqliteStorageProvider(new SqliteStorageOptions { ConnectionString = $"Data Source={crashed}" });
        var storedEnRoute = await StoredEnRouteOnCrewsAsync(provider, regions, crewsPerRegion);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var after = await BenchmarkSilo.StartAsync(provider, o => o.AddGrainsFrom(GrainsAssembly.Value), s => s.AddWorkflow(configure: HoldCheckpoint));
        var start = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        var replay = after.Services.GetRequiredService<ViewRecovery>().LastReplay
            ?? throw new InvalidOperationException("The restart replayed nothing: the checkpoint was not held at the load's start.");

        var (onCrews, wrongState) = await CheckCrewListsAsync(after, regions, crewsPerRegion);
        var indexed = 0;
        for (var region = 0; region < regions; region++)
        {
            indexed += (await after.Grain<IOpenOrdersGrain>(LifecycleBenchmark.RegionName(region)).List(new WorkOrderQuery(State: WorkOrderState.EnRoute))).Total ?? 0;
        }

        var table = new ResultTable("orders", "load", "load orders/s", "replayed orders", "replay", "replay orders/s", "replay ÷ load time", "silo start");
        table.Add(
            Report.Number(count), Report.Ms(load.TotalMilliseconds), Report.Rate(count / load.TotalSeconds), Report.Number(replay.Orders),
            Report.Ms(replay.Elapsed.TotalMilliseconds), Report.Rate(replay.Orders / replay.Elapsed.TotalSeconds),
            Report.Ratio(replay.Elapsed / load), Report.Ms(start.TotalMilliseconds));
        table.Print();
        Report.Line(string.Create(CultureInfo.InvariantCulture,
            $"as committed at the crash the crews' stored lists had {storedEnRoute:N0} of the {count:N0} orders en route; " +
            $"journal sequences {replay.From:N0}..{replay.End:N0} read, {replay.Crews:N0} crews told dispatch again with the orders; {replay.Failed} failed to tell their views; after the restart {onCrews:N0} of " +
            $"{count:N0} orders on their crews' current lists ({wrongState} in another state there), {indexed:N0} en route in the region indexes"));
        Report.Line("load: 4 order steps each (create with dispatch's offer, accept, en route) and the crew's and index's reports; " +
            "replay: the journal after the checkpoint read in pages of 2,000 events, each order changed there telling its crew, index and dispatch again, 32 at a time");
        Report.Target("after the crash every order is on its crew's list and in its region's index", onCrews == count && wrongState == 0 && indexed == count);
    }

    private static async Task TakeOrderAsync(BenchmarkSilo silo, string id, int index)
    {
        var order = silo.Grain<IWorkOrderGrain>(id);
        var view = await order.Create(new NewWorkOrder(
            WorkOrderKind.FaultRepair, IntakeChannel.Hotline95598, "agent:bench", "No power",
            Region: LifecycleBenchmark.RegionName(index % LifecycleBenchmark.Regions), Location: LifecycleBenchmark.Near(index), AreaClass: AreaClass.Urban));
        var crew = view.CrewId ?? throw new InvalidOperationException($"Dispatch found no crew for {id}.");
        await order.Apply(new WorkOrderCommand(WorkOrderAction.Accept, "crew:" + crew, CrewId: crew));
        await order.Apply(new WorkOrderCommand(WorkOrderAction.StartTravel, "crew:" + crew, CrewId: crew));
    }

    /// <summary>How many orders the crews' stored lists have en route in the database as the crash left it.</summary>
    private static async Task<int> StoredEnRouteOnCrewsAsync(IStorageProvider provider, int regions, int crewsPerRegion)
    {
        var serializer = new JsonGrainStateSerializer();
        var enRoute = 0;
        for (var region = 0; region < regions; region++)
        {
            for (var c = 0; c < crewsPerRegion; c++)
            {
                if (await provider.ReadStateAsync(new GrainId(nameof(FieldCrewGrain), $"crew-{region}-{c}")) is { } stored)
                {
                    enRoute += serializer.Deserialize<FieldCrewState>(stored.Payload).Orders.Values.Count(s => s == WorkOrderState.EnRoute);
                }
            }
        }
        return enRoute;
    }

    /// <summary>How many orders the crews list as current, and how many of those the order itself does not have en
    /// route with that crew.</summary>
    private static async Task<(int OnCrews, int WrongState)> CheckCrewListsAsync(BenchmarkSilo silo, int regions, int crewsPerRegion)
    {
        var onCrews = 0;
        var wrongState = 0;
        for (var region = 0; region < regions; region++)
        {
            for (var c = 0; c < crewsPerRegion; c++)
            {
                var crewId = $"crew-{region}-{c}";
                var crew = await silo.Grain<IFieldCrewGrain>(crewId).Get() ?? throw new InvalidOperationException($"Crew {crewId} is gone.");
                foreach (var orderId in crew.CurrentOrders)
                {
                    onCrews++;
                    var order = await silo.Grain<IWorkOrderGrain>(orderId).Get();
                    if (order is not { State: WorkOrderState.EnRoute } || order.CrewId != crewId)
                    {
                        wrongState++;
                    }
                }
            }
        }
        return (onCrews, wrongState);
    }
}
