using PowerService.Runtime;

namespace PowerService.Grains.Topology;

/// <summary>A smart meter (key: meter number) and the transformer area it hangs on.</summary>
public interface IMeterGrain : IGrain
{
    /// <summary>The meter's imported profile, or null for an unknown meter.</summary>
    Task<MeterProfile?> GetProfile();
}

public sealed record MeterProfile(string Id, string TransformerAreaId, GeoPoint Location, MeterRole Role = MeterRole.Customer);

/// <summary>A transformer area (台区, key: area id): one distribution transformer and the customers behind it. Outage
/// inference asks it how many meters and customers it has and which of them are important. The counts are of customer
/// meters and their customers; the area's supply meter (台区总表), if any, is named apart.</summary>
public interface ITransformerAreaGrain : IGrain
{
    /// <summary>The area with its counts and important/critical customers, or null for an unknown area.</summary>
    Task<TransformerAreaProfile?> GetProfile();

    /// <summary>The area's feeder and meters, without reading its customers: what outage inference needs on every
    /// activation of every area in a storm (the customers are read once the area's profile is asked for, when an
    /// outage opens). Null for an unknown area.</summary>
    Task<TransformerAreaMeters?> GetMeters();

    /// <summary>The ids of the area's meters (its supply meter too), read from the topology on each call: for the rare
    /// question of which meters are still dark, which the area's flags know by hash only.</summary>
    Task<IReadOnlyList<string>> GetMeterIds();

    /// <summary>Those of <paramref name="meterIds"/> a customer is supplied through: a meter left without one (its
    /// customer moved onto a new meter in a swap) is nobody in the dark.</summary>
    Task<IReadOnlyList<string>> WithCustomers(IReadOnlyList<string> meterIds);
}

/// <summary>A transformer area's feeder, how many customer meters it has, and its supply meter (台区总表), if any.</summary>
public sealed record TransformerAreaMeters(string Id, string FeederId, int MeterCount, string? SupplyMeterId);

public sealed record TransformerAreaProfile(
    string Id,
    string Name,
    string FeederId,
    string GridId,
    string Region,
    AreaClass AreaClass,
    GeoPoint Location,
    int CapacityKva,
    int MeterCount,
    int CustomerCount,
    IReadOnlyList<KeyCustomer> ImportantCustomers,
    string? SupplyMeterId = null);

/// <summary>An important or critical customer of an area: who to call first when it loses supply.</summary>
public sealed record KeyCustomer(string Id, string Name, string? Phone, string MeterId, CustomerImportance Importance);

/// <summary>A 10 kV feeder (key: feeder id) and the transformer areas it supplies.</summary>
public interface IFeederGrain : IGrain
{
    /// <summary>The feeder with its substation and areas, or null for an unknown feeder.</summary>
    Task<FeederProfile?> GetProfile();
}

public sealed record FeederProfile(
    string Id, string Name, string SubstationId, string SubstationName, string Region, IReadOnlyList<string> TransformerAreaIds);

/// <summary>A service grid (网格, key: grid id): the patch one grid manager answers for.</summary>
public interface IServiceGridGrain : IGrain
{
    /// <summary>The grid and its manager, or null for an unknown grid.</summary>
    Task<ServiceGridProfile?> GetProfile();
}

public sealed record ServiceGridProfile(string Id, string Name, string Region, GridManager Manager);

public sealed record GridManager(string Name, string Phone);
