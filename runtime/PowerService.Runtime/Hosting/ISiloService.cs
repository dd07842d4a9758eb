namespace PowerService.Runtime;

/// <summary>A background part of the silo that is not a grain (Orleans' grain services and lifecycle participants play
/// this role): an ingestion pump, an outbox deliverer. Every <see cref="ISiloService"/> registered in the silo's service
/// provider is started after reminders start, in registration order, and stopped in reverse order before activations are
/// deactivated, so a service can drain its work into grains that are still active.</summary>
public interface ISiloService
{
    Task StartAsync(Silo silo, CancellationToken cancellationToken);

    Task StopAsync(CancellationToken cancellationToken);
}
