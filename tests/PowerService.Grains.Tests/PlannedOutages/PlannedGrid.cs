using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using PowerService.Grains.PlannedOutages;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.Topology.Import;

namespace PowerService.Grains.Tests.PlannedOutages;

/// <summary>A small grid to plan outages on: feeder F-1 supplies TA-1 (an ordinary customer, a school and a hospital)
/// and TA-2 (two ordinary customers); feeder F-2 supplies TA-3 (one customer). One meter per customer.</summary>
internal static class PlannedGrid
{
    public static readonly TimeSpan Week = TimeSpan.FromDays(7);

    /// <summary>How the planned outages' journal payloads are written, for tests that read them back.</summary>
    public static readonly JsonSerializerOptions RecordJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public const string Dispatcher = "dispatcher:li";

    public static async Task ImportAsync(WorkflowSilo silo)
    {
        var import = new TopologyImport(silo.Silo);
        (ImportKind Kind, string Csv)[] files =
        [
            (ImportKind.Feeders, "feeder_id,name,substation_id,substation_name,region\nF-1,Binhai 1,S-1,Binhai,R1\nF-2,Binhai 2,S-1,Binhai,R1\n"),
            (ImportKind.Grids, "grid_id,name,region,manager_name,manager_phone\nG-1,Binhai grid,R1,Chen Jie,13800000001\n"),
            (ImportKind.TransformerAreas, "area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva\n"
                + "TA-1,Binhai 1-1,F-1,G-1,R1,urban,20.0,110.3,400\nTA-2,Binhai 1-2,F-1,G-1,R1,urban,20.0,110.3,400\nTA-3,Binhai 2-1,F-2,G-1,R1,urban,20.0,110.3,400\n"),
            (ImportKind.Meters, "meter_id,area_id,latitude,longitude\n"
                + "M-11,TA-1,20.0,110.3\nM-12,TA-1,20.0,110.3\nM-13,TA-1,20.0,110.3\nM-21,TA-2,20.0,110.3\nM-22,TA-2,20.0,110.3\nM-31,TA-3,20.0,110.3\n"),
            (ImportKind.Customers, "customer_id,name,phone,meter_id,importance,area_class,latitude,longitude\n"
                + "CU-11,Wang Fang,13900000011,M-11,ordinary,urban,20.0,110.3\n"
                + "CU-12,Binhai Middle School,13900000012,M-12,important,urban,20.0,110.3\n"
                + "CU-13,People's Hospital,13900000013,M-13,critical,urban,20.0,110.3\n"
                + "CU-21,Li Na,13900000021,M-21,ordinary,urban,20.0,110.3\n"
                + "CU-22,Zhang Wei,13900000022,M-22,ordinary,urban,20.0,110.3\n"
                + "CU-31,Liu Yang,13900000031,M-31,ordinary,urban,20.0,110.3\n"),
        ];
        foreach (var (kind, csv) in files)
        {
            var result = await import.ImportAsync(kind, new MemoryStream(Encoding.UTF8.GetBytes(csv)), "dispatcher-7");
            Assert.True(result.Succeeded, string.Join("; ", result.Errors));
        }
    }

    /// <summary>A plan starting <paramref name="startIn"/> from the silo's clock, lasting four hours.</summary>
    public static PlannedOutageRequest Request(
        WorkflowSilo silo,
        TimeSpan startIn,
        string? feederId = null,
        IReadOnlyList<string>? areaIds = null,
        PlannedOutageKind kind = PlannedOutageKind.Planned,
        string? overrideReason = null)
    {
        var start = silo.Clock.GetUtcNow() + startIn;
        return new PlannedOutageRequest(kind, feederId, areaIds, start, start.AddHours(4), "Replace the 10 kV switch", Dispatcher, overrideReason);
    }

    /// <summary>Plans an outage of <paramref name="areaIds"/> a week ahead, lets the week pass, and works it for four hours.</summary>
    public static async Task<PlannedOutageView> CarryOutAsync(WorkflowSilo silo, string id, params string[] areaIds)
    {
        var outage = silo.Grain<IPlannedOutageGrain>(id);
        var plan = await outage.Plan(Request(silo, TimeSpan.FromDays(7), areaIds: areaIds), dryRun: false);
        Assert.True(plan.Acceptable, string.Join("; ", plan.Refusals.Select(r => r.Message)));
        silo.Advance(TimeSpan.FromDays(7));
        await outage.Start(silo.Clock.GetUtcNow(), "crew:C-12");
        silo.Advance(TimeSpan.FromHours(4));
        return await outage.Complete(silo.Clock.GetUtcNow(), "crew:C-12");
    }
}
