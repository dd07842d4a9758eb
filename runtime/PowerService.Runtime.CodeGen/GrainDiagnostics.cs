using Microsoft.CodeAnalysis;

namespace PowerService.Runtime.CodeGen;

internal static class GrainDiagnostics
{
    private const string Category = "PowerService.CodeGen";

    public static readonly DiagnosticDescriptor InvalidReturnType = Error(
        "PSG001",
        "Grain interface method must return Task or Task<T>",
        "Grain interface method '{0}.{1}' must return Task or Task<T>");

    public static readonly DiagnosticDescriptor GenericMethod = Error(
        "PSG002",
        "Grain interface method must not be generic",
        "Grain interface method '{0}.{1}' must not be generic");

    public static readonly DiagnosticDescriptor ByRefParameter = Error(
        "PSG003",
        "Grain interface method parameters must not be ref, out or in",
        "Parameter '{2}' of grain interface method '{0}.{1}' must not be ref, out or in");

    public static readonly DiagnosticDescriptor GenericInterface = Error(
        "PSG004",
        "Grain interface must not be generic",
        "Grain interface '{0}' must not be generic");

    // Only methods can be forwarded as invocations; anything else would leave the reference incomplete.
    public static readonly DiagnosticDescriptor NotAMethod = Error(
        "PSG005",
        "Grain interface member must be a grain method",
        "Grain interface '{0}' requires member '{1}', which is not a method of a grain interface");

    // The generated reference is a top-level internal class, so it must be able to see the interface.
    public static readonly DiagnosticDescriptor Inaccessible = Error(
        "PSG006",
        "Grain interface must be public or internal",
        "Grain interface '{0}' and its containing types must be public or internal");

    public static readonly DiagnosticDescriptor OneWayWithResult = Error(
        "PSG007",
        "A one-way grain method must return Task",
        "Grain interface method '{0}.{1}' is [OneWay] and must return Task: its caller does not wait for a result");

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
