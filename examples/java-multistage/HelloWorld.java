public class HelloWorld {
    public static void main(String[] args) {
        System.out.println("Hello from a multi-stage build: JDK to build, JRE to run.");
    }
}
