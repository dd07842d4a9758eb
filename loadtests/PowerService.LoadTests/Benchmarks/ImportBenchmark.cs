using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using PowerService.Grains;
using PowerService.Grains.Topology.Import;
using PowerService.LoadTests.Harness;
using PowerService.TestSupport.Topology;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>Bulk topology import: the generated files (500 feeders, 20,000 transformer areas, 1,000,000 meters and
/// 1,000,000 customers by default) imported in order through <see cref="TopologyImport"/>, as the import endpoint
/// will, into a fresh database; then the customers file again (all unchanged). Baseline in the same run: the same
/// files' rows loaded the fastest raw way into plain tables without keys (binary COPY on PostgreSQL, one prepared
/// INSERT per row in one transaction on SQLite), with a plain comma split for parsing.</summary>
internal static class ImportBenchmark
{
    public static readonly TimeSpan TargetPostgres = TimeSpan.FromSeconds(60);

    private static readonly ImportKind[] Order =
        [ImportKind.Feeders, ImportKind.Grids, ImportKind.TransformerAreas, ImportKind.Meters, ImportKind.Customers];

    public static async Task RunAsync(CommandLine args)
    {
        var size = new TopologySampleSize(args.Int("customers", 1_000_000));
        string[] kinds = args.Text("store") is { } only ? [only] : ["postgres", "sqlite"];
        Report.Title("import", $"topology import of {size.Feeders:N0} feeders, {size.Grids:N0} grids, {size.TransformerAreas:N0} transformer areas, " +
            $"{size.Meters + size.SupplyMeters:N0} meters, {size.Customers:N0} customers from CSV, parents first, each file all-or-nothing in one transaction");
        var folder = Directory.CreateTempSubdirectory("powerservice-topology-").FullName;
        try
        {
            var generating = Stopwatch.StartNew();
            TopologySample.WriteToFolder(size, folder);
            var bytes = Order.Sum(kind => new FileInfo(Path.Combine(folder, kind.Name() + ".csv")).Length);
            Report.Line($"generated in {generating.Elapsed.TotalSeconds:0.0} s: {bytes / 1e6:0.0} MB of CSV in {folder}");
            await BenchmarkStore.ForEachAsync(kinds, store => RunOnStoreAsync(store, folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task RunOnStoreAsync(BenchmarkStore store, string folder)
    {
        Report.Line("");
        Report.Line($"{store.Kind}: {store.Settings}");
        var postgres = store.Kind == "postgres";
        var database = await store.CreateDatabaseAsync("topology");
        var table = new ResultTable("file", "rows", "import", "rows/s", postgres ? "raw COPY" : "raw INSERTs", "import/raw", "inserted", "unchanged");
        var notes = new List<string>();
        TimeSpan importTotal = TimeSpan.Zero, baselineTotal = TimeSpan.Zero;
        await using (var silo = await BenchmarkSilo.StartAsync(database.Provider, options => options.AddGrainsFrom(GrainsAssembly.Value)))
        {
            var import = new TopologyImport(silo.Silo);
            foreach (var (kind, again) in Order.Select(kind => (kind, false)).Append((ImportKind.Customers, true)))
            {
                GC.Collect();
                var cpu = CpuUsage.Start();
                var started = Stopwatch.GetTimestamp();
                ImportResult result;
                await using (var file = File.OpenRead(Path.Combine(folder, kind.Name() + ".csv")))
                {
                    result = await import.ImportAsync(kind, file, "loadtest");
                }
                var elapsed = Stopwatch.GetElapsedTime(started);
                if (!result.Succeeded)
                {
                    throw new InvalidOperationException($"{kind.Name()} failed: {string.Join("; ", result.Errors.Take(5))}");
                }
                notes.Add($"{(again ? "customers again" : kind.Name())}: {cpu.Describe()}");
                var name = again ? "customers (again)" : kind.Name();
                if (again)
                {
                    table.Add(name, Report.Number(result.Rows), Seconds(elapsed), Report.Rate(result.Rows / elapsed.TotalSeconds), "", "",
                        Report.Number(result.Inserted), Report.Number(result.Unchanged));
                    continue;
                }
                var baseline = postgres
                    ? await CopyRawAsync(database.ConnectionString, folder, kind)
                    : await InsertRawAsync(database.ConnectionString, folder, kind);
                importTotal += elapsed;
                baselineTotal += baseline;
                table.Add(name, Report.Number(result.Rows), Seconds(elapsed), Report.Rate(result.Rows / elapsed.TotalSeconds), Seconds(baseline),
                    Report.Ratio(elapsed / baseline), Report.Number(result.Inserted), Report.Number(result.Unchanged));
            }
        }
        table.Add("total (first import)", "", Seconds(importTotal), "", Seconds(baselineTotal), Report.Ratio(importTotal / baselineTotal), "", "");
        table.Print();
        notes.ForEach(Report.Line);
        Report.Line($"peak working set of this process: {Environment.WorkingSet / 1e6:N0} MB now, {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:N0} MB peak");
        Report.Line("import: parse + validate + duplicate check + stage + parent check + upsert into catalog (primary key and parent index), one transaction per file");
        if (postgres)
        {
            Report.Target("whole topology (feeders, grids, areas, meters, customers) into PostgreSQL in < 60 s", importTotal < TargetPostgres);
        }
    }

    private static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    /// <summary>The file's fields, split on commas (the generator writes no quoted fields), binary-COPYed as text into a
    /// plain table with one column per field and no key: the floor for moving these bytes into PostgreSQL.</summary>
    private static async Task<TimeSpan> CopyRawAsync(string connectionString, string folder, ImportKind kind)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var path = Path.Combine(folder, kind.Name() + ".csv");
        var columns = File.ReadLines(path).First().Split(',');
        var tableName = "raw_" + kind.Name().Replace('-', '_');
        await using (var create = new NpgsqlCommand($"CREATE TABLE {tableName} ({string.Join(", ", columns.Select(c => c + " text"))})", connection))
        {
            await create.ExecuteNonQueryAsync();
        }
        var started = Stopwatch.GetTimestamp();
        await using (var copy = await connection.BeginBinaryImportAsync($"COPY {tableName} FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var line in File.ReadLines(path).Skip(1))
            {
                copy.StartRow();
                foreach (var field in line.Split(','))
                {
                    copy.Write(field, NpgsqlDbType.Text);
                }
            }
            await copy.CompleteAsync();
        }
        return Stopwatch.GetElapsedTime(started);
    }

    private static async Task<TimeSpan> InsertRawAsync(string connectionString, string folder, ImportKind kind)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        var path = Path.Combine(folder, kind.Name() + ".csv");
        var columns = File.ReadLines(path).First().Split(',');
        var tableName = "raw_" + kind.Name().Replace('-', '_');
        await using (var create = connection.CreateCommand())
        {
            create.CommandText = $"PRAGMA busy_timeout = 5000; CREATE TABLE {tableName} ({string.Join(", ", columns.Select(c => c + " TEXT"))})";
            await create.ExecuteNonQueryAsync();
        }
        var started = Stopwatch.GetTimestamp();
        using (var transaction = connection.BeginTransaction(deferred: false))
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = $"INSERT INTO {tableName} VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i.ToString(CultureInfo.InvariantCulture)))})";
            var parameters = columns.Select((_, i) => insert.Parameters.Add("$p" + i.ToString(CultureInfo.InvariantCulture), SqliteType.Text)).ToArray();
            insert.Prepare();
            foreach (var line in File.ReadLines(path).Skip(1))
            {
                var fields = line.Split(',');
                for (var i = 0; i < parameters.Length; i++)
                {
                    parameters[i].Value = fields[i];
                }
                insert.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        return Stopwatch.GetElapsedTime(started);
    }
}
