using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using PowerService.Grains.Crews;
using PowerService.Runtime;
using PowerService.Runtime.Storage;

namespace PowerService.Grains.Topology.Import;

/// <summary>Imports one CSV file (columns: docs/topology-import.md). All or nothing: a file with any bad row, a key
/// twice, or a reference to something that does not exist imports nothing and reports every problem with its line
/// and column. Topology files are streamed into the catalog in one store transaction (binary COPY on PostgreSQL),
/// so a million rows never sit in memory as objects; re-importing a file changes nothing and says so.
/// After an import the activations that loaded changed entries are dropped, so the next call reads afresh.</summary>
public sealed class TopologyImport(Silo silo)
{
    /// <summary>At most this many errors are listed; <see cref="ImportResult.ErrorCount"/> counts them all.</summary>
    public const int MaxReportedErrors = 100;

    private const int ProgressInterval = 10_000;
    private const int RegistrationsInFlight = 64;

    public async Task<ImportResult> ImportAsync(
        ImportKind kind, Stream csv, string actor, IProgress<ImportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        using var text = new StreamReader(csv, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        var reader = new CsvReader(text);
        var errors = new ImportErrors(MaxReportedErrors);
        var columns = kind == ImportKind.Crews ? CrewsFile.Columns : TopologyFile.For(kind).Columns;
        var header = await ReadHeaderAsync(reader, columns, errors, cancellationToken);
        if (header is null)
        {
            return Failed(kind, 0, errors);
        }
        var result = kind == ImportKind.Crews
            ? await ImportCrewsAsync(reader, header, actor, errors, progress, cancellationToken)
            : await ImportTopologyAsync(TopologyFile.For(kind), reader, header, errors, progress, cancellationToken);
        progress?.Report(new ImportProgress(kind, result.Rows, Completed: true));
        return result;
    }

    private static async Task<CsvHeader?> ReadHeaderAsync(CsvReader reader, IReadOnlyList<CsvColumn> columns, ImportErrors errors, CancellationToken cancellationToken)
    {
        var fields = new List<string>();
        if (!await ReadRecordAsync(reader, fields, errors, cancellationToken))
        {
            if (errors.Count == 0)
            {
                errors.Add(1, null, $"the file is empty; its first line must be the header: {CsvHeader.Describe(columns)}");
            }
            return null;
        }
        return CsvHeader.Read(fields, columns, errors);
    }

    private async Task<ImportResult> ImportTopologyAsync(
        TopologyFile file, CsvReader reader, CsvHeader header, ImportErrors errors, IProgress<ImportProgress>? progress, CancellationToken cancellationToken)
    {
        var run = new TopologyRun(file, header, errors);
        CatalogImportResult stored;
        try
        {
            await file.PrepareAsync(silo.Storage, cancellationToken);
            stored = await silo.Storage.ImportCatalogAsync(
                file.CatalogKind, file.Parent?.Kind, EntriesAsync(reader, run, progress, cancellationToken), cancellationToken);
        }
        catch (ImportRejectedException)
        {
            return Failed(file.Kind, run.Rows, errors);
        }
        if (!stored.Applied)
        {
            var (_, column, noun) = file.Parent!.Value;
            foreach (var orphan in stored.Orphans)
            {
                errors.Add(run.LineOfKey[orphan.Key], column, $"{noun} '{orphan.ParentKey}' does not exist (import {noun}s first)");
            }
            return Failed(file.Kind, run.Rows, errors);
        }
        if (stored.Inserted + stored.Updated > 0)
        {
            Invalidate(file, run.LineOfKey.Keys);
        }
        List<string> notes = [];
        if (await file.FollowingAsync(silo.Storage, cancellationToken) is { } following)
        {
            await silo.Storage.ImportCatalogAsync(
                following.File.CatalogKind, following.File.Parent?.Kind, following.Entries.ToAsyncEnumerable(), cancellationToken);
            Invalidate(following.File, following.Entries.Select(e => e.Key));
            notes.Add(following.Note);
        }
        if (stored.Inserted + stored.Updated > 0 && file.Kind is ImportKind.Meters or ImportKind.Customers)
        {
            notes.AddRange(await TellPlansOfMovedCustomersAsync());
        }
        return new ImportResult(file.Kind, true, run.Rows, stored.Inserted, stored.Updated, stored.Unchanged, 0, [], notes);
    }

    /// <summary>Customers moved onto the areas of a scheduled planned outage (a meter on another area, a new customer)
    /// were never told of it and would be cut without notice: each scheduled plan tells those it has not told, and the
    /// answer names the plans that did, with how many and whether later than its notice period promised.</summary>
    private async Task<List<string>> TellPlansOfMovedCustomersAsync()
    {
        var calendar = silo.GetGrain<PlannedOutages.IPlannedOutageCalendarGrain>(PlannedOutages.IPlannedOutageCalendarGrain.Key);
        var notes = new List<string>();
        for (var skip = 0; ; skip += 100)
        {
            var page = await calendar.List(new PlannedOutages.PlannedOutageQuery(Upcoming: true, Skip: skip, Take: 100));
            foreach (var plan in page.Items.Where(p => p.Status == PlannedOutages.PlannedOutageStatus.Scheduled))
            {
                var told = await silo.GetGrain<PlannedOutages.IPlannedOutageGrain>(plan.Id).TellCustomersNewToItsAreas();
                if (told.Customers > 0)
                {
                    var late = told.Late ? ", later than its notice period before the start" : "";
                    notes.Add($"planned outage {plan.Id} ({TimeText.Minute(plan.PlannedStart)}): {told.Customers} customer(s) now on its transformer areas were told of it now{late}");
                }
            }
            if (skip + page.Items.Count >= page.Total || page.Items.Count == 0)
            {
                return notes;
            }
        }
    }

    /// <summary>Drops the activations that loaded the changed entries of <paramref name="file"/>, and those summarizing
    /// its kind, so the next call reads afresh.</summary>
    private void Invalidate(TopologyFile file, IEnumerable<string> keys)
    {
        silo.InvalidateActivations(keys.Select(key => new GrainId(file.GrainType, key)));
        silo.NotifyCatalogChanged(file.CatalogKind);
        foreach (var grainType in file.SummarizingGrainTypes)
        {
            silo.InvalidateActivations(grainType);
        }
    }

    /// <summary>The valid rows as catalog entries, read while the store stages them. After the first error nothing more
    /// is staged, but the file is read to its end, and the valid rows' references checked, to report every error; then
    /// the enumeration throws, which rolls the store's transaction back.</summary>
    private async IAsyncEnumerable<CatalogEntry> EntriesAsync(
        CsvReader reader, TopologyRun run, IProgress<ImportProgress>? progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var fields = new List<string>();
        while (await ReadRecordAsync(reader, fields, run.Errors, cancellationToken))
        {
            if (++run.Rows % ProgressInterval == 0)
            {
                progress?.Report(new ImportProgress(run.File.Kind, run.Rows, Completed: false));
            }
            if (ReadRow(reader, fields, run.Header, run.Errors) is not { } row)
            {
                continue;
            }
            var entry = run.File.Read(row);
            if (!row.IsValid || !run.IsNewKey(entry.Key, row))
            {
                continue;
            }
            if (run.Errors.Count == 0)
            {
                yield return entry;
            }
        }
        // The valid rows' references are checked whatever else is wrong, so one answer lists every problem (a region
        // not its feeder's on line 4 came only once the invisible character on line 5 was fixed).
        await run.File.CheckReferencesAsync(silo.Storage, run.LineOfKey, run.Errors, cancellationToken);
        if (run.Errors.Count > 0)
        {
            throw new ImportRejectedException();
        }
    }

    private async Task<ImportResult> ImportCrewsAsync(
        CsvReader reader, CsvHeader header, string actor, ImportErrors errors, IProgress<ImportProgress>? progress, CancellationToken cancellationToken)
    {
        var now = silo.TimeProvider.GetUtcNow();
        var crews = new List<(string Id, CrewProfile Profile)>();
        var lineOfKey = new Dictionary<string, int>(StringComparer.Ordinal);
        var fields = new List<string>();
        long rows = 0;
        while (await ReadRecordAsync(reader, fields, errors, cancellationToken))
        {
            rows++;
            if (ReadRow(reader, fields, header, errors) is not { } row)
            {
                continue;
            }
            var crew = CrewsFile.Read(row, now);
            if (!row.IsValid || !CrewsFile.Registrable(row, crew, actor))
            {
                continue;
            }
            if (!lineOfKey.TryAdd(crew.Id, row.Line))
            {
                row.Error("crew_id", $"'{crew.Id}' is already on line {lineOfKey[crew.Id]}");
                continue;
            }
            crews.Add(crew);
        }
        if (errors.Count > 0)
        {
            return Failed(ImportKind.Crews, rows, errors);
        }

        long inserted = 0, updated = 0, unchanged = 0, done = 0;
        foreach (var chunk in crews.Chunk(RegistrationsInFlight))
        {
            var outcomes = await Task.WhenAll(chunk.Select(crew => RegisterAsync(crew.Id, crew.Profile, actor)));
            inserted += outcomes.Count(o => o == Change.Inserted);
            updated += outcomes.Count(o => o == Change.Updated);
            unchanged += outcomes.Count(o => o == Change.Unchanged);
            done += chunk.Length;
            progress?.Report(new ImportProgress(ImportKind.Crews, done, Completed: false));
        }
        return new ImportResult(ImportKind.Crews, true, rows, inserted, updated, unchanged, 0, [], []);
    }

    /// <summary>Registers a crew unless it already has exactly this profile, so a re-import changes nothing.</summary>
    private async Task<Change> RegisterAsync(string id, CrewProfile profile, string actor)
    {
        var crew = silo.GetGrain<IFieldCrewGrain>(id);
        var current = await crew.Get();
        // Records compare their lists by reference; the JSON form compares them by content.
        if (current is not null && JsonSerializer.Serialize(current.Profile) == JsonSerializer.Serialize(profile))
        {
            return Change.Unchanged;
        }
        await crew.Register(profile, actor);
        return current is null ? Change.Inserted : Change.Updated;
    }

    private static CsvRow? ReadRow(CsvReader reader, List<string> fields, CsvHeader header, ImportErrors errors)
    {
        if (fields.Count != header.FieldCount)
        {
            errors.Add(reader.Line, null, $"has {fields.Count} fields; the header has {header.FieldCount}");
            return null;
        }
        return new CsvRow(header, fields, reader.Line, errors);
    }

    /// <summary>The next record, or false at the end of the file or at a record that is not valid CSV (reported).</summary>
    private static async ValueTask<bool> ReadRecordAsync(CsvReader reader, List<string> fields, ImportErrors errors, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadAsync(fields, cancellationToken);
        }
        catch (CsvFormatException bad)
        {
            errors.Add(bad.Line, null, $"not valid CSV: {bad.Message}");
            return false;
        }
    }

    private static ImportResult Failed(ImportKind kind, long rows, ImportErrors errors) =>
        new(kind, false, rows, 0, 0, 0, errors.Count, errors.Reported, []);

    private enum Change
    {
        Inserted,
        Updated,
        Unchanged,
    }

    /// <summary>What one topology import keeps while streaming: the line of each key (to report duplicates, place the
    /// store's orphans and invalidate activations).</summary>
    private sealed class TopologyRun(TopologyFile file, CsvHeader header, ImportErrors errors)
    {
        public TopologyFile File { get; } = file;
        public CsvHeader Header { get; } = header;
        public ImportErrors Errors { get; } = errors;
        public Dictionary<string, int> LineOfKey { get; } = new(StringComparer.Ordinal);
        public long Rows { get; set; }

        public bool IsNewKey(string key, CsvRow row)
        {
            if (LineOfKey.TryAdd(key, row.Line))
            {
                return true;
            }
            row.Error(File.KeyColumn, $"'{key}' is already on line {LineOfKey[key]}");
            return false;
        }
    }

    /// <summary>Thrown out of the entries enumeration to make the store roll the import back.</summary>
    private sealed class ImportRejectedException() : Exception("The file has errors; nothing is imported.");
}
