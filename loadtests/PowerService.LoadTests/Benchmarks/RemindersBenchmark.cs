using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using PowerService.LoadTests.Grains;
using PowerService.LoadTests.Harness;
using PowerService.Runtime;
using PowerService.Runtime.Storage;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>Durable one-shot reminders registered through grains. (b) memory and registration: reminders due in a day
/// must cost the reminder service nothing in memory. (a) firing: reminders spread so they fall due at a steady rate,
/// with each tick's lateness recorded in the grain.</summary>
internal static class RemindersBenchmark
{
    public const double TargetMedianMs = 100;
    public const double TargetP99Ms = 1_000;

    // Set rather than defaulted: the store is counted per partition, so the count must name every one.
    private const int PartitionCount = 256;

    public static async Task RunAsync(CommandLine args)
    {
        var count = args.Int("count", 1_000_000);
        var rate = args.Int("rate", 10_000);
        var concurrency = args.Int("concurrency", 2_000);
        var kind = args.Text("store") ?? "sqlite";
        Report.Title("reminders", $"{count:N0} one-shot reminders through grains on {kind}, firing at {rate:N0}/s, {concurrency:N0} calls in flight");
        await using var store = await BenchmarkStore.OpenAsync(kind);
        Report.Line(store.Settings);

        var memory = await MeasureMemoryAsync(store, count, concurrency);
        // Firing starts once registration is surely over: (b) measured how long activating and registering take here.
        var estimate = TimeSpan.FromSeconds((count / memory.ActivationsPerSecond) + (count / memory.RegistrationsPerSecond));
        await MeasureFiringAsync(store, count, rate, concurrency, (estimate * 1.5) + TimeSpan.FromSeconds(5));
    }

    private static async Task<MemoryResult> MeasureMemoryAsync(BenchmarkStore store, int count, int concurrency)
    {
        Report.Line("");
        Report.Line($"(b) memory and registration: {count:N0} grains activated, then each registers a reminder due in 1 day");
        var database = await store.CreateDatabaseAsync("reminders_memory");
        var silo = await BenchmarkSilo.StartAsync(
            database.Provider, options => options.PartitionCount = PartitionCount, services => services.AddSingleton(new TickRecorder(0)));
        await using (silo)
        {
            var empty = Heap.LiveBytes();
            var (activated, activating) = await BoundedLoad.RunAsync(
                count, concurrency, i => silo.Grain<IReminderGrain>(Key(i)).Touch(), TimeSpan.FromMinutes(3));
            // Each reading follows a collector pass, which releases the queues of idle activations, so both readings
            // see activations in the same idle shape and the difference is what the reminders hold.
            silo.Silo.Collect();
            var activeOnly = Heap.LiveBytes();
            var (registered, registering) = await BoundedLoad.RunAsync(
                count, concurrency, i => silo.Grain<IReminderGrain>(Key(i)).Schedule(TimeSpan.FromDays(1)), TimeSpan.FromMinutes(5));
            silo.Silo.Collect();
            var withReminders = Heap.LiveBytes();
            var inMemory = silo.Silo.GetStatistics().RemindersInMemory;
            var partitions = Enumerable.Range(0, PartitionCount).ToArray();
            var stored = await database.Provider.CountRemindersAsync(partitions);
            var direct = await UpsertDirectlyAsync(store, count);

            var perActivation = (activeOnly - empty) / (double)activated;
            var perReminder = (withReminders - activeOnly) / (double)registered;
            var registrationRate = registered / registering.TotalSeconds;
            var directRate = count / direct.TotalSeconds;
            var table = new ResultTable("measure", "value", "baseline", "ratio");
            table.Add("grains activated (Touch)", $"{activated:N0} in {activating.TotalSeconds:0.0} s", "", "");
            table.Add("reminders registered via grains", $"{registered:N0} in {registering.TotalSeconds:0.0} s", "", "");
            table.Add("registration throughput", Report.Rate(registrationRate), $"{Report.Rate(directRate)} direct upserts", Report.Ratio(registrationRate / directRate));
            table.Add("reminders stored", Report.Number(stored), "", "");
            table.Add("reminders in memory (RemindersInMemory)", Report.Number(inMemory), "", "");
            table.Add("heap per activation (no reminder)", $"{perActivation:N0} B", "", "");
            table.Add("heap per registered reminder", $"{perReminder:N1} B", $"{perActivation:N0} B per activation", Report.Ratio(perReminder / perActivation));
            table.Print();
            Report.Line($"heap: {empty / 1e6:N0} MB empty silo, {activeOnly / 1e6:N0} MB with the activations, {withReminders / 1e6:N0} MB after registering");
            Report.Line("baseline 'direct upserts': the same number of reminder rows upserted straight into the provider over a fresh database, 1,024 per call, " +
                "one call at a time (the reminder group commit's batch size and single writer)");
            Report.Target("not-due-soon reminders held in memory = 0 and heap per reminder ≈ 0", inMemory == 0 && Math.Abs(perReminder) < 16);
            return new MemoryResult(activated / activating.TotalSeconds, registrationRate);
        }
    }

    /// <summary>The same number of reminder rows upserted straight into a fresh database of the same store, in the batches
    /// the runtime uses; fresh, so its table starts as empty as the grains' did.</summary>
    private static async Task<TimeSpan> UpsertDirectlyAsync(BenchmarkStore store, int count)
    {
        const int batchSize = 1024;
        await using var storage = (await store.CreateDatabaseAsync("reminders_direct")).Provider;
        await storage.InitializeAsync();
        var dueAt = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds();
        var started = Stopwatch.GetTimestamp();
        for (var first = 0; first < count; first += batchSize)
        {
            var batch = new List<ReminderRecord>(batchSize);
            for (var i = first; i < Math.Min(count, first + batchSize); i++)
            {
                var grain = new GrainId(nameof(ReminderGrain), Key(i));
                batch.Add(new ReminderRecord(grain, "direct", dueAt, 0, grain.Partition(PartitionCount)));
            }
            await storage.UpsertRemindersAsync(batch);
        }
        return Stopwatch.GetElapsedTime(started);
    }

    private static async Task MeasureFiringAsync(BenchmarkStore store, int count, int rate, int concurrency, TimeSpan lead)
    {
        Report.Line("");
        var window = TimeSpan.FromSeconds(count / (double)rate);
        Report.Line($"(a) firing: {count:N0} reminders due evenly over {window.TotalSeconds:0} s ({rate:N0}/s), the first {lead.TotalSeconds:0} s after registration starts");
        var scheduler = await SchedulerBaseline.MeasureAsync(rate, TimeSpan.FromSeconds(10));

        var recorder = new TickRecorder(count);
        var database = await store.CreateDatabaseAsync("reminders_firing");
        var silo = await BenchmarkSilo.StartAsync(
            database.Provider, options => options.PartitionCount = PartitionCount, services => services.AddSingleton(recorder));
        await using (silo)
        {
            var firstDueMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)lead.TotalMilliseconds;
            var registeredLate = 0;
            var (registered, registering) = await BoundedLoad.RunAsync(count, concurrency, i =>
            {
                var due = firstDueMs + (i * 1000.0 / rate) - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                if (due < 0)
                {
                    Interlocked.Increment(ref registeredLate);
                }
                return silo.Grain<IReminderGrain>(Key(i)).Schedule(TimeSpan.FromMilliseconds(Math.Max(0, due)));
            }, lead + window);
            Report.Line($"registered {registered:N0} in {registering.TotalSeconds:0.0} s ({Report.Rate(registered / registering.TotalSeconds)}, activations included)");

            var deadline = firstDueMs + (long)window.TotalMilliseconds + 60_000;
            var peakInMemory = 0;
            var nextProgress = Stopwatch.GetTimestamp();
            while (recorder.Count < registered && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < deadline)
            {
                peakInMemory = Math.Max(peakInMemory, silo.Silo.GetStatistics().RemindersInMemory);
                if (Stopwatch.GetTimestamp() >= nextProgress)
                {
                    Report.Line($"  {DateTimeOffset.UtcNow:HH:mm:ss} fired {recorder.Count:N0}, in memory {silo.Silo.GetStatistics().RemindersInMemory:N0}");
                    nextProgress = Stopwatch.GetTimestamp() + (20 * Stopwatch.Frequency);
                }
                await Task.Delay(250);
            }
            await silo.Silo.StopAsync();
            var left = await database.Provider.CountRemindersAsync(Enumerable.Range(0, PartitionCount).ToArray());

            var lateness = recorder.SortedLatenessMs();
            var (firstFired, lastFired) = recorder.FiredAtRangeMs();
            var achieved = lateness.Length > 1 ? (lateness.Length - 1) * 1000.0 / Math.Max(1, lastFired - firstFired) : 0;
            var table = new ResultTable("measure", "reminders", "scheduler baseline", "ratio");
            table.Add("fired", $"{lateness.Length:N0} of {registered:N0}", Report.Number(scheduler.Length), "");
            table.Add("lateness median", Report.Ms(Statistics.Percentile(lateness, 0.5)), Report.Ms(Statistics.Percentile(scheduler, 0.5)),
                Report.Ratio(Statistics.Percentile(lateness, 0.5) / Statistics.Percentile(scheduler, 0.5)));
            table.Add("lateness p99", Report.Ms(Statistics.Percentile(lateness, 0.99)), Report.Ms(Statistics.Percentile(scheduler, 0.99)),
                Report.Ratio(Statistics.Percentile(lateness, 0.99) / Statistics.Percentile(scheduler, 0.99)));
            table.Add("lateness max", Report.Ms(Statistics.Percentile(lateness, 1)), Report.Ms(Statistics.Percentile(scheduler, 1)), "");
            table.Add("fire rate achieved", Report.Rate(achieved), Report.Rate(rate) + " due", Report.Ratio(achieved / rate));
            table.Add("peak reminders in memory", Report.Number(peakInMemory), "", "");
            table.Add("registered after their due time", Report.Number(registeredLate), "", "");
            table.Add("fired twice", Report.Number(recorder.Overflow), "", "");
            table.Add("left in the store after stop", Report.Number(left), "", "");
            table.Print();
            var bursts = recorder.LateBursts(TargetMedianMs);
            Report.Line($"ticks later than {TargetMedianMs:0} ms: {bursts.Sum(b => b.Ticks):N0}, in {bursts.Count} bursts by due time (s after the first due time: ticks, worst):");
            foreach (var burst in bursts.Take(12))
            {
                Report.Line(string.Create(CultureInfo.InvariantCulture,
                    $"  {(burst.FirstDueAtMs - firstDueMs) / 1000.0:0.0}-{(burst.LastDueAtMs - firstDueMs) / 1000.0:0.0} s: {burst.Ticks:N0} ticks, {burst.MaxLatenessMs:N0} ms"));
            }
            Report.Line("scheduler baseline: a Task.Delay loop handing due items to the thread pool at the same rate for 10 s, this process, just before");
            Report.Target("median lateness ≤ 100 ms", lateness.Length == registered && Statistics.Percentile(lateness, 0.5) <= TargetMedianMs);
            Report.Target("p99 lateness ≤ 1 s", lateness.Length == registered && Statistics.Percentile(lateness, 0.99) <= TargetP99Ms);
        }
    }

    private static string Key(int i) => string.Create(CultureInfo.InvariantCulture, $"r-{i}");

    private sealed record MemoryResult(double ActivationsPerSecond, double RegistrationsPerSecond);
}
