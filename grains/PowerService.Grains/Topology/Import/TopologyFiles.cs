using PowerService.Grains.Notices;
using PowerService.Runtime.Storage;

namespace PowerService.Grains.Topology.Import;

/// <summary>One topology CSV file: its columns, the catalog kind its rows become, the parent each row must find,
/// and the grains whose loaded data an import of it makes stale.</summary>
internal abstract class TopologyFile
{
    public abstract ImportKind Kind { get; }
    public abstract string CatalogKind { get; }
    public abstract IReadOnlyList<CsvColumn> Columns { get; }
    public abstract string KeyColumn { get; }

    /// <summary>The kind of the parent each row names, and the column naming it; null for a file without parents.</summary>
    public virtual (string Kind, string Column, string Noun)? Parent => null;

    /// <summary>The grain type that loads one entry of this file (its activations of imported keys go stale).</summary>
    public abstract string GrainType { get; }

    /// <summary>Grain types that summarize many entries of this file (an area and its customers): all their activations
    /// go stale on import.</summary>
    public virtual IReadOnlyList<string> SummarizingGrainTypes => [];

    /// <summary>The catalog entry of a row; only used when the row read without errors.</summary>
    public abstract CatalogEntry Read(CsvRow row);

    /// <summary>Reads what checking each row needs from the store, before the file is read (outside the import's
    /// transaction).</summary>
    public virtual Task PrepareAsync(IStorageProvider storage, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Checks references other than the parent once the whole file is read, adding errors with lines.
    /// <paramref name="linesOfKeys"/> holds every key of the file with its line.</summary>
    public virtual Task CheckReferencesAsync(
        IStorageProvider storage, IReadOnlyDictionary<string, int> linesOfKeys, ImportErrors errors, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Entries of another file that follow from this one once it is stored (a feeder's areas take its region),
    /// stored after it in a transaction of their own: a crash between leaves them as they were, and importing this file
    /// again makes them follow. Asked after every successful import, changed or not. Null when nothing follows.</summary>
    public virtual Task<FollowingEntries?> FollowingAsync(IStorageProvider storage, CancellationToken cancellationToken) =>
        Task.FromResult<FollowingEntries?>(null);

    public static TopologyFile For(ImportKind kind) => kind switch
    {
        ImportKind.Feeders => new FeedersFile(),
        ImportKind.Grids => new GridsFile(),
        ImportKind.TransformerAreas => new TransformerAreasFile(),
        ImportKind.Meters => new MetersFile(),
        ImportKind.Customers => new CustomersFile(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a topology file."),
    };
}

internal sealed class FeedersFile : TopologyFile
{
    public override ImportKind Kind => ImportKind.Feeders;
    public override string CatalogKind => TopologyKinds.Feeder;
    public override string GrainType => TopologyGrainTypes.Feeder;
    public override string KeyColumn => "feeder_id";

    public override IReadOnlyList<string> SummarizingGrainTypes => [TopologyGrainTypes.RegionIndicators];

    public override IReadOnlyList<CsvColumn> Columns { get; } =
        [new("feeder_id"), new("name"), new("substation_id"), new("substation_name"), new("region")];

    // Each feeder of the file with its region: feeders are few (500 for the largest topology).
    private readonly Dictionary<string, string> _regionOfFeeder = new(StringComparer.Ordinal);

    public override CatalogEntry Read(CsvRow row)
    {
        var feeder = new FeederEntry(row.Id("feeder_id"), row.Text("name"), row.Id("substation_id"), row.Text("substation_name"), row.Region("region"));
        if (row.IsValid)
        {
            _regionOfFeeder[feeder.Id] = feeder.Region;
        }
        // The region is the feeder's parent key (not checked: regions are not imported), so a region's feeders are one read.
        return new CatalogEntry(feeder.Id, feeder.Region, TopologyJson.Serialize(feeder));
    }

    /// <summary>An area is served in its feeder's region (the areas file is refused otherwise), so a feeder moved to
    /// another region takes its areas along: the old region's indicators counted areas whose feeder it no longer had,
    /// and the areas file could not follow (refused while the feeder was in the old region).</summary>
    public override async Task<FollowingEntries?> FollowingAsync(IStorageProvider storage, CancellationToken cancellationToken)
    {
        var moved = new List<CatalogEntry>();
        foreach (var feeders in _regionOfFeeder.Keys.Chunk(100))
        {
            foreach (var stored in await storage.ReadCatalogChildrenAsync(TopologyKinds.TransformerArea, feeders, cancellationToken))
            {
                var area = TopologyJson.Deserialize<TransformerAreaEntry>(stored);
                var region = _regionOfFeeder[area.FeederId];
                if (region != area.Region)
                {
                    moved.Add(new CatalogEntry(area.Id, area.FeederId, TopologyJson.Serialize(area with { Region = region })));
                }
            }
        }
        return moved.Count == 0 ? null
            : new FollowingEntries(new TransformerAreasFile(), moved, $"{moved.Count} transformer area(s) moved with their feeder to its region");
    }
}

/// <summary>Entries of <paramref name="File"/> an import changes in consequence, and what to tell the importer.</summary>
internal sealed record FollowingEntries(TopologyFile File, IReadOnlyList<CatalogEntry> Entries, string Note);

/// <summary>Service grids (网格) are not in the list of files, but a transformer area names its grid and a
/// customer's profile names its grid manager, so grids are imported like feeders, before the areas.</summary>
internal sealed class GridsFile : TopologyFile
{
    public override ImportKind Kind => ImportKind.Grids;
    public override string CatalogKind => TopologyKinds.ServiceGrid;
    public override string GrainType => TopologyGrainTypes.ServiceGrid;
    public override string KeyColumn => "grid_id";

    public override IReadOnlyList<CsvColumn> Columns { get; } =
        [new("grid_id"), new("name"), new("region"), new("manager_name"), new("manager_phone")];

    public override CatalogEntry Read(CsvRow row)
    {
        var grid = new ServiceGridEntry(row.Id("grid_id"), row.Text("name"), row.Region("region"), row.Text("manager_name"), row.Phone("manager_phone"));
        return new CatalogEntry(grid.Id, null, TopologyJson.Serialize(grid));
    }
}

internal sealed class TransformerAreasFile : TopologyFile
{
    // Which lines name each grid: grids are few, so this stays small even for 20,000 areas.
    private readonly Dictionary<string, List<int>> _linesByGrid = new(StringComparer.Ordinal);

    // Which lines name each feeder, with the region each gives its area.
    private readonly Dictionary<string, List<(int Line, string Region)>> _linesByFeeder = new(StringComparer.Ordinal);

    public override ImportKind Kind => ImportKind.TransformerAreas;
    public override string CatalogKind => TopologyKinds.TransformerArea;
    public override string GrainType => TopologyGrainTypes.TransformerArea;
    public override string KeyColumn => "area_id";
    public override (string Kind, string Column, string Noun)? Parent => (TopologyKinds.Feeder, "feeder_id", "feeder");

    // A feeder lists its areas; a customer's profile carries its area's feeder, grid and region; an area's power state
    // files its outages under its feeder (an area moved to another feeder was rolled up with its old one).
    public override IReadOnlyList<string> SummarizingGrainTypes =>
        [TopologyGrainTypes.Feeder, TopologyGrainTypes.Customer, TopologyGrainTypes.RegionIndicators, TopologyGrainTypes.AreaPower];

    public override IReadOnlyList<CsvColumn> Columns { get; } =
    [
        new("area_id"), new("name"), new("feeder_id"), new("grid_id"), new("region"), new("area_class"),
        new("latitude"), new("longitude"), new("capacity_kva"),
    ];

    public override CatalogEntry Read(CsvRow row)
    {
        var area = new TransformerAreaEntry(
            row.Id("area_id"), row.Text("name"), row.Id("feeder_id"), row.Id("grid_id"), row.Region("region"), row.Enum<AreaClass>("area_class"),
            row.Latitude("latitude"), row.Longitude("longitude"), row.Integer("capacity_kva", 1, 100_000));
        if (row.IsValid)
        {
            if (!_linesByGrid.TryGetValue(area.GridId, out var lines))
            {
                _linesByGrid.Add(area.GridId, lines = []);
            }
            lines.Add(row.Line);
            if (!_linesByFeeder.TryGetValue(area.FeederId, out var feederLines))
            {
                _linesByFeeder.Add(area.FeederId, feederLines = []);
            }
            feederLines.Add((row.Line, area.Region));
        }
        return new CatalogEntry(area.Id, area.FeederId, TopologyJson.Serialize(area));
    }

    public override async Task CheckReferencesAsync(
        IStorageProvider storage, IReadOnlyDictionary<string, int> linesOfKeys, ImportErrors errors, CancellationToken cancellationToken)
    {
        var grids = _linesByGrid.Keys.ToList();
        var found = await storage.ReadCatalogAsync(TopologyKinds.ServiceGrid, grids, cancellationToken);
        for (var i = 0; i < grids.Count; i++)
        {
            if (found[i] is null)
            {
                foreach (var line in _linesByGrid[grids[i]])
                {
                    errors.Add(line, "grid_id", $"grid '{grids[i]}' does not exist (import grids first)");
                }
            }
        }
        // A region counts the customers of its feeders' areas, while an area's outages and orders are its own region's:
        // an area on another region's feeder was counted served by one region and interrupted in another (whose
        // indicators did not exist). Unknown feeders are reported with the file's other missing parents.
        var feeders = _linesByFeeder.Keys.ToList();
        var stored = await storage.ReadCatalogAsync(TopologyKinds.Feeder, feeders, cancellationToken);
        for (var i = 0; i < feeders.Count; i++)
        {
            if (stored[i] is not { } entry)
            {
                continue;
            }
            var feederRegion = TopologyJson.Deserialize<FeederEntry>(entry).Region;
            foreach (var (line, region) in _linesByFeeder[feeders[i]].Where(l => l.Region != feederRegion))
            {
                errors.Add(line, "region", $"region '{region}' is not the region of feeder '{feeders[i]}' ('{feederRegion}'): an area is served in its feeder's region");
            }
        }
    }
}

/// <summary>Meters, each a customer meter or its area's supply meter (台区总表, <c>role</c> = <c>supply</c>). An area has
/// at most one supply meter, in the file and together with the meters imported before.</summary>
internal sealed class MetersFile : TopologyFile
{
    // Areas whose supply meters are compared with the catalog per read (a read returns a row or two per area).
    private const int AreasPerCatalogRead = 500;

    private static readonly string SupplyRole = TopologyJson.Text(MeterRole.Supply);

    // The supply meter of each area in this file, with its line: one per area, so 20,000 for the largest topology.
    private readonly Dictionary<string, (string MeterId, int Line)> _supplyByArea = new(StringComparer.Ordinal);

    public override ImportKind Kind => ImportKind.Meters;
    public override string CatalogKind => TopologyKinds.Meter;
    public override string GrainType => TopologyGrainTypes.Meter;
    public override string KeyColumn => "meter_id";
    public override (string Kind, string Column, string Noun)? Parent => (TopologyKinds.TransformerArea, "area_id", "transformer area");

    // An area counts its meters and names its supply meter; a customer's profile follows its meter to the area; the
    // area's energy balance knows which meter is the supply meter; an area's power state takes the share of its meters
    // dark from its meter count (kept, 6 dark of 100 new meters were "6 of 10": an outage and 100 customers texted).
    public override IReadOnlyList<string> SummarizingGrainTypes =>
        [TopologyGrainTypes.TransformerArea, TopologyGrainTypes.Customer, TopologyGrainTypes.AreaEnergy, TopologyGrainTypes.RegionIndicators, TopologyGrainTypes.AreaPower];

    public override IReadOnlyList<CsvColumn> Columns { get; } =
        [new("meter_id"), new("area_id"), new("latitude"), new("longitude"), new("role", Required: false)];

    public override CatalogEntry Read(CsvRow row)
    {
        var role = row.OptionalEnum<MeterRole>("role") ?? MeterRole.Customer;
        var meter = new MeterEntry(
            row.Id("meter_id"), row.Id("area_id"), row.Latitude("latitude"), row.Longitude("longitude"), role == MeterRole.Supply ? role : null);
        if (role == MeterRole.Supply && row.IsValid)
        {
            if (_supplyByArea.TryGetValue(meter.TransformerAreaId, out var first))
            {
                row.Error("role", $"transformer area '{meter.TransformerAreaId}' already has supply meter '{first.MeterId}' on line {first.Line}; an area has at most one");
            }
            else
            {
                _supplyByArea.Add(meter.TransformerAreaId, (meter.Id, row.Line));
            }
        }
        return new CatalogEntry(meter.Id, meter.TransformerAreaId, TopologyJson.Serialize(meter));
    }

    /// <summary>An area given a supply meter here may already have another one from an earlier import; that one stays
    /// (an import never deletes) unless this file lists it again, as a customer meter or on another area.</summary>
    public override async Task CheckReferencesAsync(
        IStorageProvider storage, IReadOnlyDictionary<string, int> linesOfKeys, ImportErrors errors, CancellationToken cancellationToken)
    {
        foreach (var (area, stored) in await StoredSupplyMetersAsync(storage, _supplyByArea.Keys, cancellationToken))
        {
            var (meterId, line) = _supplyByArea[area];
            if (stored != meterId && !linesOfKeys.ContainsKey(stored))
            {
                errors.Add(line, "role",
                    $"transformer area '{area}' already has supply meter '{stored}' (imported before); an area has at most one: " +
                    $"list '{stored}' in this file with role customer to replace it");
            }
        }
        foreach (var areas in _supplyByArea.Keys.Chunk(AreasPerCatalogRead))
        {
            // A supply meter measures the transformer: a customer on it was left out of the area's customers (its
            // outages, notices and planned outages' impact), as the customers import refuses too.
            var areaOfSupplyMeter = areas.ToDictionary(area => _supplyByArea[area].MeterId, StringComparer.Ordinal);
            foreach (var customer in await storage.ReadCatalogChildrenAsync(TopologyKinds.Customer, [.. areaOfSupplyMeter.Keys], cancellationToken))
            {
                var area = areaOfSupplyMeter[customer.ParentKey!];
                errors.Add(_supplyByArea[area].Line, "role",
                    $"meter '{customer.ParentKey}' has customer '{customer.Key}' on it; a supply meter (of '{area}') measures the transformer: move the customer to a customer meter first");
            }
        }
    }

    /// <summary>The supply meter stored for each of <paramref name="areas"/> that has one (the stored meters grouped by
    /// role: an area's supply group holds its one supply meter), a grouped read per 500 areas.</summary>
    public static async Task<List<(string Area, string MeterId)>> StoredSupplyMetersAsync(
        IStorageProvider storage, IEnumerable<string> areas, CancellationToken cancellationToken)
    {
        var supply = new List<(string Area, string MeterId)>();
        foreach (var chunk in areas.Chunk(AreasPerCatalogRead))
        {
            foreach (var (area, role, _, meterId) in await storage.GroupCatalogChildrenAsync(TopologyKinds.Meter, chunk, MeterEntry.RoleField, cancellationToken))
            {
                if (role == SupplyRole)
                {
                    supply.Add((area, meterId));
                }
            }
        }
        return supply;
    }
}

internal sealed class CustomersFile : TopologyFile
{
    public override ImportKind Kind => ImportKind.Customers;
    public override string CatalogKind => TopologyKinds.Customer;
    public override string GrainType => TopologyGrainTypes.Customer;
    public override string KeyColumn => "customer_id";
    public override (string Kind, string Column, string Noun)? Parent => (TopologyKinds.Meter, "meter_id", "meter");

    // An area counts its customers and lists the important ones.
    public override IReadOnlyList<string> SummarizingGrainTypes => [TopologyGrainTypes.TransformerArea, TopologyGrainTypes.AreaEnergy, TopologyGrainTypes.RegionIndicators];

    public override IReadOnlyList<CsvColumn> Columns { get; } =
    [
        new("customer_id"), new("name"), new("phone", Required: false), new("meter_id"), new("importance", Required: false),
        new("area_class", Required: false), new("latitude"), new("longitude"), new("notice_channel", Required: false),
    ];

    private const int AreasPerPage = 10_000;

    // Every area's supply meter (台区总表), by meter id: one per area, so 20,000 for the largest topology.
    private readonly Dictionary<string, string> _areaOfSupplyMeter = new(StringComparer.Ordinal);

    /// <summary>The supply meters: a customer put on one was left out of the area's customers (outages, notices, planned
    /// outages' impact), silently.</summary>
    public override async Task PrepareAsync(IStorageProvider storage, CancellationToken cancellationToken)
    {
        string? after = null;
        while (true)
        {
            var areas = await storage.ReadCatalogLinksAsync(TopologyKinds.TransformerArea, after, AreasPerPage, cancellationToken);
            foreach (var (area, meterId) in await MetersFile.StoredSupplyMetersAsync(storage, areas.Select(a => a.Key), cancellationToken))
            {
                _areaOfSupplyMeter[meterId] = area;
            }
            if (areas.Count < AreasPerPage)
            {
                return;
            }
            after = areas[^1].Key;
        }
    }

    public override CatalogEntry Read(CsvRow row)
    {
        var customer = new CustomerEntry(
            row.Id("customer_id"), row.Text("name"), row.OptionalPhone("phone"), row.Id("meter_id"),
            row.OptionalEnum<CustomerImportance>("importance") ?? CustomerImportance.Ordinary, row.OptionalEnum<AreaClass>("area_class"),
            row.Latitude("latitude"), row.Longitude("longitude"), row.OptionalEnum<NoticeChannelKind>("notice_channel"));
        if (row.IsValid && customer is { NoticeChannel: NoticeChannelKind.Sms, Phone: null })
        {
            row.Error("notice_channel", "sms needs a phone number in the phone column");
        }
        if (row.IsValid && _areaOfSupplyMeter.TryGetValue(customer.MeterId, out var area))
        {
            row.Error("meter_id", $"meter '{customer.MeterId}' is transformer area '{area}''s supply meter (台区总表); a customer is on a customer meter");
        }
        return new CatalogEntry(customer.Id, customer.MeterId, TopologyJson.Serialize(customer));
    }
}
