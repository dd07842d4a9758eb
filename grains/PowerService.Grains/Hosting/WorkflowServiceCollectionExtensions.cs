using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PowerService.Grains.Ami;
using PowerService.Grains.Crews;
using PowerService.Grains.Dispatch;
using PowerService.Grains.Energy;
using PowerService.Grains.Indicators;
using PowerService.Grains.Notices;
using PowerService.Grains.Outages;
using PowerService.Grains.PlannedOutages;
using PowerService.Grains.Recovery;
using PowerService.Grains.Sla;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Grains.Hosting;

public static class WorkflowServiceCollectionExtensions
{
    /// <summary>Registers the settings the workflow grains take in their constructors, bound from
    /// <paramref name="configuration"/> (the <c>Workflow</c> section) when given.</summary>
    public static IServiceCollection AddWorkflow(this IServiceCollection services, IConfiguration? configuration = null, Action<WorkflowOptions>? configure = null)
    {
        var options = new WorkflowOptions();
        configuration?.Bind(options);
        if (configuration?.GetSection("Callback:RetryDelays").Get<TimeSpan[]>() is { } delays)
        {
            // Binding a list adds to the defaults it starts with: configured delays replace them instead.
            options.Callback.RetryDelays.Clear();
            foreach (var delay in delays)
            {
                options.Callback.RetryDelays.Add(delay);
            }
        }
        options.Sla.ReplaceOverriddenRules();
        configure?.Invoke(options);
        options.Sla.Validate();
        options.Callback.Validate();
        services.AddSingleton(options);
        services.AddSingleton(options.Sla);
        services.AddSingleton(options.Dispatch);
        services.AddSingleton(options.Booking);
        services.AddSingleton(options.Callback);
        options.Outages.Validate();
        services.AddSingleton(options.Outages);
        services.AddSingleton<OutageOpeningSlots>();
        options.PlannedOutages.Validate();
        services.AddSingleton(options.PlannedOutages);
        services.AddSingleton(new SlaPolicy(options.Sla));
        // First: the views of orders are put right after a crash before anything else starts working with them.
        options.Recovery.Validate(DispatchGrain.RosterSaveInterval + options.Dispatch.BacklogInterval);
        services.AddSingleton(options.Recovery);
        services.AddSingleton<ViewRecovery>();
        services.AddSingleton<ISiloService>(sp => sp.GetRequiredService<ViewRecovery>());
        services.AddNotices(options.Notices);
        // Registered after the notices: silo services stop in reverse order, so ingestion hands its last events to
        // the grains (which may owe notices) before the notice delivery stops.
        options.Ingestion.Validate(options.Outages.MeterFlagsWriteBehind);
        services.AddSingleton(options.Ingestion);
        services.AddSingleton<MeterDirectory>();
        services.AddSingleton<ISiloService>(sp => sp.GetRequiredService<MeterDirectory>());
        services.AddSingleton<MeterEventIngestion>();
        services.AddSingleton<ISiloService>(sp => sp.GetRequiredService<MeterEventIngestion>());
        services.AddSingleton(options.Energy);
        services.AddSingleton(new EnergyPeriods(options.Energy));
        services.AddSingleton(options.Indicators);
        return services;
    }

    /// <summary>The customer notice outbox (grains take <see cref="INoticeOutbox"/>) and its delivery, started with the
    /// silo; a file-backed adapter per channel unless the options or later registrations give another.</summary>
    private static void AddNotices(this IServiceCollection services, NoticeOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<NoticeSignal>();
        services.AddSingleton<NoticeMetrics>();
        services.AddSingleton<NoticeOutbox>();
        services.AddSingleton<INoticeOutbox>(sp => sp.GetRequiredService<NoticeOutbox>());
        services.AddSingleton<ISiloService>(sp => sp.GetRequiredService<NoticeOutbox>());
        foreach (var name in options.FileChannels.Distinct(StringComparer.Ordinal))
        {
            services.AddSingleton<INoticeChannel>(_ => new FileNoticeChannel(name, options.Folder));
        }
        foreach (var adapter in options.Adapters)
        {
            services.AddSingleton(adapter);
        }
        services.AddSingleton<ISiloService, NoticeDelivery>();
    }
}

/// <summary>All workflow settings; each part is registered on its own so a grain asks only for what it uses.</summary>
public sealed class WorkflowOptions
{
    public SlaOptions Sla { get; } = new();
    public DispatchOptions Dispatch { get; } = new();
    public BookingOptions Booking { get; } = new();
    public CallbackOptions Callback { get; } = new();
    public OutageOptions Outages { get; } = new();
    public IngestionOptions Ingestion { get; } = new();
    public NoticeOptions Notices { get; } = new();
    public EnergyOptions Energy { get; } = new();
    public PlannedOutageOptions PlannedOutages { get; } = new();
    public IndicatorOptions Indicators { get; } = new();
    public RecoveryOptions Recovery { get; } = new();
}
