using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PowerService.Grains.Hosting;
using PowerService.Grains.Sla;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;

namespace PowerService.Grains.Tests.Sla;

/// <summary>The <c>Workflow</c> configuration section as an operator writes it (appsettings or environment variables).</summary>
public sealed class SlaConfigurationTests
{
    [Fact]
    public void A_configured_rule_replaces_the_default_for_its_clock_kind_and_area_and_configured_retry_delays_replace_the_defaults()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sla:Rules:0:Clock"] = "Arrival",
            ["Sla:Rules:0:Kind"] = "FaultRepair",
            ["Sla:Rules:0:StartsAt"] = "Receipt",
            ["Sla:Rules:0:StopsAt"] = "Arrival",
            ["Sla:Rules:0:Limit"] = "00:30:00",
            ["Sla:Rules:0:Basis"] = "Elapsed",
            ["Sla:Rules:0:Area"] = "Urban",
            ["Callback:RetryDelays:0"] = "00:30:00",
        }).Build();

        using var services = new ServiceCollection().AddLogging().AddWorkflow(configuration).BuildServiceProvider();

        var policy = services.GetRequiredService<SlaPolicy>();
        var urban = policy.StartingAt(SlaMilestone.Receipt, WorkOrderKind.FaultRepair, AreaClass.Urban, null).Where(r => r.Clock == SlaPolicy.Arrival);
        Assert.Equal(TimeSpan.FromMinutes(30), Assert.Single(urban).Limit);
        var rural = policy.StartingAt(SlaMilestone.Receipt, WorkOrderKind.FaultRepair, AreaClass.Rural, null).Where(r => r.Clock == SlaPolicy.Arrival);
        Assert.Equal(TimeSpan.FromMinutes(90), Assert.Single(rural).Limit); // the defaults not configured stay
        Assert.Equal([TimeSpan.FromMinutes(30)], services.GetRequiredService<CallbackOptions>().RetryDelays);
    }
}
