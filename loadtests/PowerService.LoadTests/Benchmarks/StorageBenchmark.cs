using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using PowerService.LoadTests.Grains;
using PowerService.LoadTests.Harness;
using PowerService.Storage.Sqlite;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>Grain state writes of about 1 KB through the group commit, many grains at once, against the same number of
/// rows written the fastest raw way into the same table (binary COPY on PostgreSQL, one prepared INSERT per row in
/// 512-row transactions on SQLite), in interleaved rounds.</summary>
internal static class StorageBenchmark
{
    public const double TargetPostgres = 50_000;
    public const double TargetSqlite = 20_000;

    // Baseline rows get their own grain type, so they never meet the grains' rows and are deleted after each round.
    private const string BaselineGrainType = "storage-baseline";
    private const string DeleteBaselineRows = $"DELETE FROM grain_state WHERE grain_type = '{BaselineGrainType}'";

    public static async Task RunAsync(CommandLine args)
    {
        var grains = args.Int("grains", 4_000);
        var warmup = args.Seconds("warmup", 3);
        var measure = args.Seconds("measure", 8);
        var rounds = args.Int("rounds", 3);
        string[] kinds = args.Text("store") is { } only ? [only] : ["postgres", "sqlite", "sqlite-normal"];
        var data = PayloadData();
        var payload = JsonSerializer.SerializeToUtf8Bytes(new BlobState { Writes = 100_000, Data = data });
        Report.Title("storage", $"{payload.Length:N0}-byte state writes through the group commit: {grains:N0} grains each writing in a loop, " +
            $"{warmup.TotalSeconds:0.#} s warm-up + {measure.TotalSeconds:0.#} s measured per round, {rounds} rounds");

        await BenchmarkStore.ForEachAsync(kinds, store => RunOnStoreAsync(store, grains, warmup, measure, rounds, data, payload));
    }

    private static async Task RunOnStoreAsync(
        BenchmarkStore store, int grainCount, TimeSpan warmup, TimeSpan measure, int rounds, string data, byte[] payload)
    {
        Report.Line("");
        Report.Line($"{store.Kind}: {store.Settings}");
        var postgres = store.Kind == "postgres";
        var database = await store.CreateDatabaseAsync("storage");
        await using var silo = await BenchmarkSilo.StartAsync(database.Provider);
        var grains = Enumerable.Range(0, grainCount).Select(i => silo.Grain<IBlobGrain>($"blob-{i}")).ToArray();
        var baselineName = postgres ? "binary COPY" : "raw INSERTs";

        var table = new ResultTable("round", "group commit", baselineName, "group commit/baseline");
        var groupCommit = new List<double>();
        var baseline = new List<double>();
        var notes = new List<string>();
        for (var round = 1; round <= rounds; round++)
        {
            GC.Collect();
            await using (var load = new CallLoad(grainCount, (caller, _) => grains[caller].Write(data)))
            {
                await Task.Delay(warmup);
                using var batches = new StorageBatchProbe();
                var cpu = CpuUsage.Start();
                groupCommit.Add(await load.MeasureAsync(measure));
                notes.Add($"round {round}, group commit: {batches.Describe()}; {cpu.Describe()}");
            }
            var rows = (int)(groupCommit[^1] * measure.TotalSeconds);
            var keys = Enumerable.Range(0, rows).Select(i => string.Create(CultureInfo.InvariantCulture, $"{round}-{i}")).ToArray();
            var (rate, cpuUsed) = postgres
                ? await CopyAsync(database.ConnectionString, keys, payload)
                : await InsertAsync(database.ConnectionString, keys, payload, store.Synchronous);
            baseline.Add(rate);
            notes.Add($"round {round}, {baselineName}: {cpuUsed}");
            table.Add(round.ToString(CultureInfo.InvariantCulture), Report.Rate(groupCommit[^1]), Report.Rate(baseline[^1]), Report.Ratio(groupCommit[^1] / baseline[^1]));
        }
        var median = Statistics.Median(groupCommit);
        table.Add("median", Report.Rate(median), Report.Rate(Statistics.Median(baseline)), Report.Ratio(median / Statistics.Median(baseline)));
        table.Print();
        notes.ForEach(Report.Line);
        Report.Line($"baseline: the rows the group commit wrote in its measured window, written again with distinct keys as {baselineName} " +
            (postgres ? "on one connection in one COPY" : "on one connection, 512 per transaction") + ", then deleted (untimed)");
        Report.Target(postgres ? "≥ 50,000 writes/s on PostgreSQL" : "≥ 20,000 writes/s on SQLite", median >= (postgres ? TargetPostgres : TargetSqlite));
    }

    /// <summary>State data sized so the serialized state is 1,024 bytes with a six-digit write count.</summary>
    private static string PayloadData()
    {
        var frame = JsonSerializer.SerializeToUtf8Bytes(new BlobState { Writes = 100_000, Data = "" }).Length;
        return new string('x', 1024 - frame);
    }

    /// <summary>Rows per second, and the CPU the timed part used.</summary>
    private static async Task<(double Rate, string Cpu)> CopyAsync(string connectionString, string[] keys, byte[] payload)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var now = DateTime.UtcNow;
        var cpu = CpuUsage.Start();
        var started = Stopwatch.GetTimestamp();
        await using (var import = await connection.BeginBinaryImportAsync(
            "COPY grain_state (grain_type, grain_key, version, payload, modified_at) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var key in keys)
            {
                import.StartRow();
                import.Write(BaselineGrainType, NpgsqlDbType.Text);
                import.Write(key, NpgsqlDbType.Text);
                import.Write(1L, NpgsqlDbType.Bigint);
                import.Write(payload, NpgsqlDbType.Bytea);
                import.Write(now, NpgsqlDbType.TimestampTz);
            }
            await import.CompleteAsync();
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        var cpuUsed = cpu.Describe();
        foreach (var sql in new[] { DeleteBaselineRows, "VACUUM grain_state" })
        {
            await using var cleanup = new NpgsqlCommand(sql, connection);
            await cleanup.ExecuteNonQueryAsync();
        }
        return (keys.Length / elapsed.TotalSeconds, cpuUsed);
    }

    /// <summary>Rows per second, and the CPU the timed part used.</summary>
    private static async Task<(double Rate, string Cpu)> InsertAsync(string connectionString, string[] keys, byte[] payload, SqliteSynchronous synchronous)
    {
        const int transactionSize = 512;
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using (var pragmas = connection.CreateCommand())
        {
            pragmas.CommandText = $"PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous.ToString().ToUpperInvariant()};";
            await pragmas.ExecuteNonQueryAsync();
        }
        await using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO grain_state (grain_type, grain_key, version, payload, modified_at) VALUES ($type, $key, 1, $payload, $now)";
        insert.Parameters.AddWithValue("$type", BaselineGrainType);
        var key = insert.Parameters.AddWithValue("$key", "");
        insert.Parameters.AddWithValue("$payload", payload);
        insert.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
        var cpu = CpuUsage.Start();
        var started = Stopwatch.GetTimestamp();
        for (var first = 0; first < keys.Length; first += transactionSize)
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            insert.Transaction = transaction;
            insert.Prepare();
            for (var i = first; i < Math.Min(keys.Length, first + transactionSize); i++)
            {
                key.Value = keys[i];
                insert.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        var cpuUsed = cpu.Describe();
        await using var cleanup = connection.CreateCommand();
        cleanup.CommandText = DeleteBaselineRows;
        await cleanup.ExecuteNonQueryAsync();
        return (keys.Length / elapsed.TotalSeconds, cpuUsed);
    }
}
