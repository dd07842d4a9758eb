using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace PowerService.Runtime.CodeGen;

/// <summary>Writes the module initializer that registers every generated reference of the compilation.</summary>
internal static class RegistrationEmitter
{
    public const string HintName = "PowerServiceGeneratedGrainReferences.g.cs";

    public static string Emit(string assemblyName, IEnumerable<Registration> registrations)
    {
        var writer = new CodeWriter()
            .Line(ReferenceEmitter.Header)
            .Line("#nullable enable")
            .Line("// Registering from a module initializer is the point here, not a library misuse.")
            .Line("#pragma warning disable CA2255")
            .Line()
            // One class per assembly; its namespace carries the assembly name so friend assemblies do not clash.
            .Open($"namespace PowerService.Generated.{Sanitize(assemblyName)}")
            .Open("internal static class PowerServiceGeneratedGrainReferences")
            .Line("[global::System.Runtime.CompilerServices.ModuleInitializer]")
            .Open("internal static void Register()");
        foreach (var registration in registrations.OrderBy(registration => registration.InterfaceType, System.StringComparer.Ordinal))
        {
            writer.Line(
                $"global::PowerService.Runtime.GrainReferenceRegistry.Register(typeof({registration.InterfaceType}), " +
                $"static context => new {registration.ProxyType}(context));");
        }
        return writer.Close().Close().Close().ToString();
    }

    /// <summary>Turns an assembly name into one identifier: invalid characters (dots too) become '_'.</summary>
    private static string Sanitize(string assemblyName)
    {
        var name = new StringBuilder(assemblyName.Length + 1);
        foreach (var character in assemblyName)
        {
            name.Append(SyntaxFacts.IsIdentifierPartCharacter(character) ? character : '_');
        }
        if (name.Length == 0 || !SyntaxFacts.IsIdentifierStartCharacter(name[0]))
        {
            name.Insert(0, '_');
        }
        var identifier = name.ToString();
        return SyntaxFacts.GetKeywordKind(identifier) == SyntaxKind.None ? identifier : "@" + identifier;
    }
}

/// <summary>One line of the module initializer: an interface and the reference that implements it.</summary>
internal sealed record Registration(string InterfaceType, string ProxyType);
