using PowerService.Runtime;

namespace PowerService.Grains.Topology;

/// <summary>Loads the area and counts its meters on activation (two reads, no meter entry leaves the store) and reads
/// its customers (~50 an area) when the profile is first asked for, then keeps the counts and the important customers.
/// Outage inference needs only the counts (<see cref="GetMeters"/>); in a storm every area activates at once and most
/// never open an outage, so reading every meter and customer of every area up front was most of what the burst
/// allocated. The supply meter (台区总表) measures the whole area, not a customer: it is named apart and left out of the
/// counts.</summary>
[GrainType(TopologyGrainTypes.TransformerArea)]
internal sealed class TransformerAreaGrain(ICatalog catalog) : Grain, ITransformerAreaGrain
{
    private static readonly string SupplyRole = TopologyJson.Text(MeterRole.Supply);

    private TransformerAreaEntry? _area;
    private TransformerAreaMeters? _meters;
    private TransformerAreaProfile? _profile;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (await catalog.ReadAsync(TopologyKinds.TransformerArea, GetPrimaryKeyString()) is not { } entry)
        {
            return;
        }
        var area = TopologyJson.Deserialize<TransformerAreaEntry>(entry);
        // Grouped by role in the store: a row for the customer meters, one for the supply meter (at most one an area).
        var customerMeters = 0;
        string? supply = null;
        foreach (var group in await catalog.GroupChildrenAsync(TopologyKinds.Meter, area.Id, MeterEntry.RoleField))
        {
            if (group.Value == SupplyRole)
            {
                supply = group.FirstKey;
            }
            else
            {
                customerMeters += group.Count;
            }
        }
        _area = area;
        _meters = new TransformerAreaMeters(area.Id, area.FeederId, customerMeters, supply);
    }

    public Task<TransformerAreaMeters?> GetMeters() => Task.FromResult(_meters);

    public async Task<IReadOnlyList<string>> GetMeterIds() =>
        _area is { } area ? [.. (await catalog.ReadChildrenAsync(TopologyKinds.Meter, [area.Id])).Select(m => m.Key)] : [];

    public async Task<IReadOnlyList<string>> WithCustomers(IReadOnlyList<string> meterIds)
    {
        if (meterIds.Count == 0)
        {
            return [];
        }
        var supplied = (await catalog.ReadChildrenAsync(TopologyKinds.Customer, meterIds)).Select(c => c.ParentKey).ToHashSet(StringComparer.Ordinal);
        return [.. meterIds.Where(supplied.Contains)];
    }

    public async Task<TransformerAreaProfile?> GetProfile()
    {
        if (_profile is not null || _area is not { } area || _meters is not { } meters)
        {
            return _profile;
        }
        // The customer meters are read here rather than kept: an area holds ~2 KB less until an outage asks for this.
        // Only each meter's role is read from its entry (its id is the entry's key): no coordinates, no copies.
        var customerMeters = (await catalog.ReadChildrenAsync(TopologyKinds.Meter, [area.Id]))
            .Where(m => TopologyJson.Deserialize<MeterRoleEntry>(m).Role != MeterRole.Supply)
            .Select(m => m.Key)
            .ToList();
        var customers = customerMeters.Count == 0
            ? []
            : await catalog.ReadChildrenAsync(TopologyKinds.Customer, customerMeters);
        var important = customers
            .Select(TopologyJson.Deserialize<CustomerEntry>)
            .Where(c => c.Importance != CustomerImportance.Ordinary)
            .OrderByDescending(c => c.Importance)
            .ThenBy(c => c.Id, StringComparer.Ordinal)
            .Select(c => new KeyCustomer(c.Id, c.Name, c.Phone, c.MeterId, c.Importance))
            .ToList();
        _profile = new TransformerAreaProfile(
            area.Id, area.Name, area.FeederId, area.GridId, area.Region, area.AreaClass, new GeoPoint(area.Latitude, area.Longitude),
            area.CapacityKva, meters.MeterCount, customers.Count, important, meters.SupplyMeterId);
        return _profile;
    }
}
