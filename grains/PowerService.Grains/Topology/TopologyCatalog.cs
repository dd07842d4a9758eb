using System.Text.Json;
using System.Text.Json.Serialization;
using PowerService.Grains.Notices;
using PowerService.Runtime.Storage;

namespace PowerService.Grains.Topology;

/// <summary>The catalog kinds of the grid topology, and the grain type each is loaded by. Parents are what an import
/// checks: a transformer area hangs on a feeder, a meter on an area, a customer on a meter.</summary>
internal static class TopologyKinds
{
    public const string Feeder = "feeder";
    public const string ServiceGrid = "grid";
    public const string TransformerArea = "transformer-area";
    public const string Meter = "meter";
    public const string Customer = "customer";
}

/// <summary>Grain type names of the topology grains (stable: the importer invalidates activations by them).</summary>
internal static class TopologyGrainTypes
{
    public const string Feeder = "Feeder";
    public const string ServiceGrid = "ServiceGrid";
    public const string TransformerArea = "TransformerArea";
    public const string Meter = "Meter";
    public const string Customer = "Customer";
    public const string AreaEnergy = "AreaEnergy";

    /// <summary>An area's power state judges last gasps by its meter count and files outages under its feeder.</summary>
    public const string AreaPower = "AreaPower";

    /// <summary>Counts the customers a region serves from the catalog (indicators).</summary>
    public const string RegionIndicators = "RegionIndicators";
}

// Catalog payloads: what one imported row says, stored as JSON. Each holds its own references only (a customer names
// its meter, not its area or feeder): moving a meter to another area is then one row, not a re-import of customers.

internal sealed record FeederEntry(string Id, string Name, string SubstationId, string SubstationName, string Region);

internal sealed record ServiceGridEntry(string Id, string Name, string Region, string ManagerName, string ManagerPhone);

internal sealed record TransformerAreaEntry(
    string Id, string Name, string FeederId, string GridId, string Region, AreaClass AreaClass, double Latitude, double Longitude, int CapacityKva);

// Role is null for a customer meter, so entries imported before the role column existed stay byte for byte the same
// and a re-import of them reports them unchanged.
internal sealed record MeterEntry(string Id, string TransformerAreaId, double Latitude, double Longitude, MeterRole? Role = null)
{
    /// <summary>The payload field <see cref="Role"/> is stored in (the store groups meters by it).</summary>
    public const string RoleField = "role";
}

/// <summary>A meter entry read for its role only (an area counting its meters skips the rest).</summary>
internal readonly record struct MeterRoleEntry(MeterRole? Role);

// NoticeChannel null: the customers file left it to the default (sms with a phone, else app), which stays configurable.
internal sealed record CustomerEntry(
    string Id, string Name, string? Phone, string MeterId, CustomerImportance Importance, AreaClass? AreaClass, double Latitude, double Longitude,
    NoticeChannelKind? NoticeChannel = null);

internal static class TopologyJson
{
    // Enums as names: the catalog stays readable in SQL, and reordering an enum cannot change stored meaning.
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Serialize<T>(T entry) => JsonSerializer.Serialize(entry, Options);

    /// <summary>An enum value as a payload holds it (the text a store reads out of the field).</summary>
    public static string Text<T>(T value) where T : struct, Enum => JsonSerializer.Serialize(value, Options).Trim('"');

    public static T Deserialize<T>(CatalogEntry entry) =>
        JsonSerializer.Deserialize<T>(entry.Payload, Options) ?? throw new JsonException($"Catalog entry '{entry.Key}' holds null.");
}
